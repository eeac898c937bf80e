import type { Readable } from 'node:stream';
import { demuxBuffer, type SwarmEngine, type TaskState } from '../docker/index.js';
import { sleep } from '../sleep.js';
import { LineRewriter, mergedOutput, parseDetailedLine, prefixed } from './swarm-logs.js';
import type { LogStream, OneOffRequest, OneOffResult, OutputSink } from './types.js';

type Service = { name: string; type: string };
/** `web.2` (or the type) of a task id of a service. */
type ReplicaOf = (service: Service, task: string | null) => Promise<string | null>;

const TERMINAL = new Set(['complete', 'failed', 'rejected', 'shutdown', 'orphaned', 'remove']);
/** How long a finished job's last lines may take to arrive. */
const OUTPUT_GRACE_MS = 1500;

/** Keeps a line when no replica was asked for, or when it is the one asked for. */
function wanted(process: string | undefined, replica: string | null): boolean {
  return process === undefined || !process.includes('.') || replica === process;
}

/** The last `tail` lines of each service's tasks, each prefixed with its replica. */
export async function readServiceLogs(swarm: SwarmEngine, services: Service[], tail: number, replicaOf: ReplicaOf, process?: string): Promise<string> {
  const out: string[] = [];
  for (const service of services) {
    const raw = await swarm.serviceLogs(service.name, { follow: false, tail });
    const text = Buffer.isBuffer(raw) ? demuxBuffer(raw) : String(raw);
    for (const line of text.split('\n')) {
      if (line === '') continue;
      const { task, text: message } = parseDetailedLine(line);
      const replica = await replicaOf(service, task);
      if (wanted(process, replica)) out.push(prefixed(replica, message));
    }
  }
  return out.length ? `${out.join('\n')}\n` : '';
}

/** Every task's new lines as they come (the last `tail` first), merged into one stream. */
export async function followServiceLogs(swarm: SwarmEngine, services: Service[], tail: number, replicaOf: ReplicaOf, process?: string): Promise<LogStream> {
  const out = mergedOutput();
  const raws: Readable[] = [];
  // Lines are written in the order they were read, however long a replica lookup takes.
  let queue = Promise.resolve();
  const onLine = (service: Service) => (line: string): void => {
    const { task, text } = parseDetailedLine(line);
    queue = queue.then(async () => {
      const replica = await replicaOf(service, task).catch(() => null);
      if (wanted(process, replica) && !out.destroyed) out.write(`${prefixed(replica, text)}\n`);
    });
  };
  for (const service of services) {
    const raw = (await swarm.serviceLogs(service.name, { follow: true, tail })) as Readable;
    raws.push(raw);
    swarm.demuxStream(raw, new LineRewriter(onLine(service)), new LineRewriter(onLine(service)));
    raw.on('error', () => undefined);
  }
  const stop = (): void => {
    for (const raw of raws) raw.destroy();
    out.end();
  };
  return { stream: out, stop };
}

/**
 * Runs a job service to its end: its output streams to `onOutput`, it is removed after
 * `timeoutMs` (or when the request's signal aborts) and in every case once it ended.
 */
export async function runJob(swarm: SwarmEngine, name: string, spec: Record<string, unknown>, req: OneOffRequest, onOutput: OutputSink): Promise<OneOffResult> {
  await swarm.createService(spec);
  let raw: Readable | null = null;
  let outputEnded: Promise<void> = Promise.resolve();
  try {
    raw = (await swarm.serviceLogs(name, { follow: true, tail: 100_000 })) as Readable;
    const sink = (stream: 'stdout' | 'stderr'): LineRewriter => new LineRewriter((line) => onOutput(stream, Buffer.from(`${parseDetailedLine(line).text}\n`)));
    swarm.demuxStream(raw, sink('stdout'), sink('stderr'));
    const stream = raw;
    outputEnded = new Promise<void>((resolve) => {
      stream.on('end', resolve);
      stream.on('close', resolve);
      stream.on('error', () => resolve());
    });
    const ended = await waitForEnd(swarm, name, req.timeoutMs, req.signal);
    await Promise.race([outputEnded, sleep(OUTPUT_GRACE_MS)]);
    if (!ended) return { exitCode: null, timedOut: !req.signal?.aborted };
    return { exitCode: ended.exitCode ?? (ended.state === 'complete' ? 0 : 1), timedOut: false };
  } finally {
    raw?.destroy();
    await swarm.removeService(name);
  }
}

/** The job's task once it ended; null when the time ran out or the signal aborted first. */
async function waitForEnd(swarm: SwarmEngine, name: string, timeoutMs: number, signal?: AbortSignal): Promise<TaskState | null> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && !signal?.aborted) {
    const task = (await swarm.tasks(name)).find((t) => TERMINAL.has(t.state));
    if (task) return task;
    await sleep(250);
  }
  return null;
}
