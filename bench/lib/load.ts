/**
 * HTTP load in a child process (autocannon), so the load does not share an event loop with
 * the bench: keep-alive connections on GET / of 127.0.0.1:PORT until stopped or capped.
 * Answers are counted by the text before the first space of the body (the app's release
 * message) and by its `host=` field (the task's container), so the bench can tell which
 * release and which node answered.
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import type { Autocannon } from '../../test/helpers/autocannon.js';

interface LoadRequest {
  port: number;
  connections: number;
  seconds: number;
}

export interface LoadReport {
  requests: number;
  durationS: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  latency: { p50: number; p99: number; max: number };
  /** Release message → answers, in the order first seen. */
  releases: Record<string, number>;
  /** Container hostname → answers. */
  hosts: Record<string, number>;
}

export interface Load {
  ready: Promise<void>;
  done: Promise<LoadReport>;
  stop(): void;
}

export function startLoad(port: number, connections: number, seconds: number): Load {
  const child = fork(fileURLToPath(import.meta.url), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  let markReady!: () => void;
  const ready = new Promise<void>((resolve) => (markReady = resolve));
  const done = new Promise<LoadReport>((resolve, reject) => {
    child.on('message', (m: { ready?: boolean; report?: LoadReport }) => {
      if (m.ready) markReady();
      if (m.report) resolve(m.report);
    });
    child.on('close', (code) => reject(new Error(`the load generator exited with code ${code} before reporting`)));
  });
  child.send({ port, connections, seconds } satisfies LoadRequest);
  return {
    ready,
    done,
    stop: () => {
      if (child.connected) child.send({ stop: true });
    },
  };
}

function runChild(): void {
  process.once('message', (msg: LoadRequest) => {
    const releases: Record<string, number> = {};
    const hosts: Record<string, number> = {};
    let ready = false;
    const run = autocannon as unknown as Autocannon;
    const instance = run(
      {
        url: `http://127.0.0.1:${msg.port}`,
        connections: msg.connections,
        duration: msg.seconds,
        requests: [
          {
            method: 'GET',
            path: '/',
            onResponse: (_status: number, body: string) => {
              const release = body.split(' ')[0] ?? '';
              releases[release] = (releases[release] ?? 0) + 1;
              const host = /host=(\S+)/.exec(body)?.[1] ?? '?';
              hosts[host] = (hosts[host] ?? 0) + 1;
              if (!ready) {
                ready = true;
                process.send?.({ ready: true });
              }
            },
          },
        ],
      },
      (err, r) => {
        if (err) {
          console.error(err);
          process.exit(2);
        }
        const report: LoadReport = {
          requests: r.requests.total,
          durationS: r.duration,
          non2xx: r.non2xx,
          errors: r.errors,
          timeouts: r.timeouts,
          latency: { p50: r.latency.p50, p99: r.latency.p99, max: r.latency.max },
          releases,
          hosts,
        };
        process.send?.({ report }, () => process.exit(0));
      },
    );
    process.on('message', (m: { stop?: boolean }) => {
      if (m.stop) instance.stop();
    });
    process.on('disconnect', () => instance.stop());
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) runChild();
