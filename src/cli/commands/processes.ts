import type { PsRecord } from '../../apps/process-service.js';
import { UsageError } from '../args.js';
import { appPath } from '../client.js';
import { printJson, type Command } from '../command.js';
import { renderTable } from '../table.js';

function formatUptime(seconds: number | null): string {
  if (seconds === null) return '-';
  if (seconds < 60) return `${seconds}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m${seconds % 60}s`;
  return `${Math.floor(seconds / 3600)}h${Math.floor((seconds % 3600) / 60)}m`;
}

/** The `ps` table: one row per process of the serving release. */
export function psTable(ps: PsRecord): string {
  const formation = Object.entries(ps.formation).map(([t, n]) => `${t}=${n}`).join(' ');
  const head = `${ps.app} v${ps.release ?? '-'}: ${ps.status} (${formation || 'no processes'})\n`;
  if (ps.processes.length === 0) return head;
  return head + renderTable(
    ['TYPE', 'REPLICA', 'CONTAINER', 'STATUS', 'UPTIME', 'RESTARTS'],
    ps.processes.map((p) => [p.type, p.name, p.container, p.status, formatUptime(p.uptime), String(p.restarts)]),
  );
}

/** `web=3 worker=0` → {"web": 3, "worker": 0} (the server checks types and ranges). */
export function parseScaleArgs(args: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const arg of args) {
    const match = /^([^=]+)=(\d+)$/.exec(arg);
    if (!match) throw new UsageError(`expected TYPE=COUNT (e.g. web=3), got ${JSON.stringify(arg)}`);
    out[match[1]!] = Number(match[2]);
  }
  return out;
}

/** Streams POST /apps/APP/run; resolves to the command's exit code (1 when it has none). */
async function runOneOff(ctx: Parameters<Command['run']>[0], app: string, command: string[], timeout: number | undefined): Promise<number> {
  let exitCode: number | null = null;
  let failure: string | null = null;
  await ctx.api().ndjson('POST', appPath(app, '/run'), { command, ...(timeout !== undefined ? { timeout } : {}) }, (line, raw) => {
    const obj = typeof line === 'object' && line !== null ? (line as Record<string, unknown>) : null;
    if (!obj) return ctx.io.out(`${raw}\n`);
    if (typeof obj.stdout === 'string') ctx.io.out(obj.stdout);
    else if (typeof obj.stderr === 'string') ctx.io.err(obj.stderr);
    else if ('exitCode' in obj) {
      exitCode = typeof obj.exitCode === 'number' ? obj.exitCode : null;
      if (obj.timedOut === true) failure = 'the command was killed: it ran past its timeout';
    } else if (typeof obj.error === 'string') failure = obj.error;
  });
  if (failure !== null) ctx.io.err(`error: ${failure}\n`);
  return exitCode ?? 1;
}

export const processCommands: Command[] = [
  {
    name: 'ps',
    args: 'APP',
    summary: "an app's processes: type, replica, container, status, uptime, restarts",
    min: 1,
    max: 1,
    async run({ api, io, json, positionals }) {
      const ps = await api().json<PsRecord>('GET', appPath(positionals[0]!, '/ps'));
      if (json) printJson(io, ps);
      else io.out(psTable(ps));
      return 0;
    },
  },
  {
    name: 'ps:scale',
    args: 'APP TYPE=COUNT…',
    summary: 'run COUNT replicas of each process type (web=3 worker=0); no request fails while it scales',
    min: 2,
    async run({ api, io, json, positionals }) {
      const [app, ...rest] = positionals;
      const changes = parseScaleArgs(rest);
      io.err(`Scaling ${app}…\n`);
      const formation = await api().json<Record<string, number>>('PATCH', appPath(app!, '/formation'), changes);
      if (json) printJson(io, formation);
      else io.out(`${app}: ${Object.entries(formation).map(([t, n]) => `${t}=${n}`).join(' ')}\n`);
      return 0;
    },
  },
  {
    name: 'run',
    args: 'APP [--timeout S] -- CMD ARGS…',
    summary: "run a one-off command in a new container of the app's current release; exits with its exit code",
    flags: [{ name: 'timeout', value: true, placeholder: 'SECONDS', description: 'kill it after this long (default: the server\'s MINPAAS_RUN_TIMEOUT)' }],
    min: 2,
    async run(ctx) {
      const [app, ...command] = ctx.positionals;
      const raw = ctx.flags.timeout;
      const timeout = typeof raw === 'string' ? Number(raw) : undefined;
      if (timeout !== undefined && (!Number.isInteger(timeout) || timeout < 1)) throw new UsageError('--timeout takes a whole number of seconds');
      return runOneOff(ctx, app!, command, timeout);
    },
  },
];
