import net from 'node:net';
import { sleep } from '../sleep.js';

/**
 * Talking to HAProxy's two unix sockets, and parsing what they answer.
 *
 * - The admin socket (`stats socket … level admin`) is served by the current worker: one
 *   line in, the answer, then HAProxy closes. A reload re-creates it, so a connect may
 *   briefly fail with ENOENT/ECONNREFUSED: retry.
 * - The master socket (`-S`) answers only after the client half-closes its side.
 */

export interface CommandOptions {
  /** How long to keep retrying a connect that fails because the socket is being re-created. */
  retryMs?: number;
  /** Bound on the whole exchange once connected. */
  timeoutMs?: number;
}

const RETRYABLE = new Set(['ENOENT', 'ECONNREFUSED', 'EAGAIN']);

export function errnoCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err ? String((err as { code: unknown }).code) : undefined;
}

function exchange(socketPath: string, command: string, halfClose: boolean, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = net.connect(socketPath);
    const timer = setTimeout(() => {
      socket.destroy(new Error(`no answer from ${socketPath} to "${command}" within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.on('connect', () => {
      if (halfClose) socket.end(`${command}\n`);
      else socket.write(`${command}\n`);
    });
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    socket.on('close', (hadError) => {
      clearTimeout(timer);
      if (!hadError) resolve(Buffer.concat(chunks).toString('utf8'));
    });
  });
}

async function send(socketPath: string, command: string, halfClose: boolean, opts: CommandOptions): Promise<string> {
  if (/[\r\n]/.test(command)) throw new Error(`HAProxy command must be one line: ${JSON.stringify(command)}`);
  const deadline = Date.now() + (opts.retryMs ?? 2000);
  for (;;) {
    try {
      return await exchange(socketPath, command, halfClose, opts.timeoutMs ?? 5000);
    } catch (err) {
      if (!RETRYABLE.has(errnoCode(err) ?? '') || Date.now() >= deadline) throw err;
      await sleep(50);
    }
  }
}

/** One command on the admin socket (the current worker). */
export function adminCommand(socketPath: string, command: string, opts: CommandOptions = {}): Promise<string> {
  return send(socketPath, command, false, opts);
}

/** One command on the master socket; it answers once we half-close. */
export function masterCommand(socketPath: string, command: string, opts: CommandOptions = {}): Promise<string> {
  return send(socketPath, command, true, opts);
}

/** One row of `show stat`, with the columns the router uses. */
export interface StatRow {
  proxy: string;
  server: string;
  /** 0 frontend, 1 backend, 2 server, 3 listener. */
  type: number;
  /** "no check" / "UP" when serving, "MAINT" when in maintenance, "OPEN" for frontends. */
  status: string;
  scur: number;
  qcur: number;
  /** "host:port" for servers, empty otherwise. */
  addr: string;
}

function num(value: string | undefined): number {
  const n = Number(value);
  return value === undefined || value === '' || Number.isNaN(n) ? 0 : n;
}

/**
 * Parse `show stat` CSV. Columns are found by the header, not by position. The
 * `srv_admin_state` bit-field is not used: after `state ready` it still carries the
 * "disabled in config" bit, while `status` says MAINT only when the server really is.
 */
export function parseShowStat(text: string): StatRow[] {
  const lines = text.split('\n').filter((line) => line.trim() !== '');
  const header = lines.find((line) => line.startsWith('# '));
  if (header === undefined) throw new Error(`unexpected "show stat" answer: ${text.slice(0, 200)}`);
  const columns = header.slice(2).split(',');
  const col = (name: string): number => {
    const index = columns.indexOf(name);
    if (index < 0) throw new Error(`"show stat" has no ${name} column`);
    return index;
  };
  const at = { proxy: col('pxname'), server: col('svname'), type: col('type'), status: col('status'), scur: col('scur'), qcur: col('qcur'), addr: col('addr') };
  return lines
    .filter((line) => !line.startsWith('#'))
    .map((line) => {
      // Names are validated tokens and no used field holds a comma, so a plain split is enough.
      const f = line.split(',');
      return {
        proxy: f[at.proxy] ?? '',
        server: f[at.server] ?? '',
        type: num(f[at.type]),
        status: f[at.status] ?? '',
        scur: num(f[at.scur]),
        qcur: num(f[at.qcur]),
        addr: f[at.addr] ?? '',
      };
    });
}

export function findStatRow(rows: StatRow[], proxy: string, server: string): StatRow | undefined {
  return rows.find((row) => row.proxy === proxy && row.server === server);
}

export const isMaint = (row: StatRow): boolean => row.status.startsWith('MAINT');

export interface ProcEntry {
  pid: number;
  reloads: number;
}

export interface ProcInfo {
  master: ProcEntry & { failedReloads: number };
  workers: ProcEntry[];
  /** Workers left by a reload, still finishing their connections. */
  oldWorkers: ProcEntry[];
}

/** Parse the master socket's `show proc`: sections "# workers", "# old workers", "# programs". */
export function parseShowProc(text: string): ProcInfo {
  let master: ProcInfo['master'] | undefined;
  const workers: ProcEntry[] = [];
  const oldWorkers: ProcEntry[] = [];
  let section: 'head' | 'workers' | 'old' | 'other' = 'head';
  for (const line of text.split('\n')) {
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#<')) continue;
    if (trimmed.startsWith('#')) {
      const title = trimmed.slice(1).trim();
      section = title === 'workers' ? 'workers' : title === 'old workers' ? 'old' : 'other';
      continue;
    }
    const fields = trimmed.split(/\s+/);
    const pid = Number(fields[0]);
    const reloads = Number(fields[2]);
    if (!Number.isInteger(pid) || !Number.isInteger(reloads)) continue;
    if (fields[1] === 'master') {
      const failed = /\[failed:\s*(\d+)\]/.exec(trimmed);
      master = { pid, reloads, failedReloads: failed ? Number(failed[1]) : 0 };
    } else if (fields[1] === 'worker' && section === 'workers') {
      workers.push({ pid, reloads });
    } else if (fields[1] === 'worker' && section === 'old') {
      oldWorkers.push({ pid, reloads });
    }
  }
  if (master === undefined) throw new Error(`unexpected "show proc" answer: ${text.slice(0, 200)}`);
  return { master, workers, oldWorkers };
}

/**
 * One admin command with a multi-line payload (`set ssl cert FILE <<` then the PEM): the
 * payload ends at the first empty line, so it must hold none.
 */
export function adminPayloadCommand(socketPath: string, command: string, payload: string, opts: CommandOptions = {}): Promise<string> {
  if (/[\r\n]/.test(command)) throw new Error(`HAProxy command must be one line: ${JSON.stringify(command)}`);
  const body = payload.replace(/\r/g, '').trim();
  if (/\n\s*\n/.test(body)) throw new Error('an HAProxy payload cannot hold an empty line');
  return sendRaw(socketPath, `${command} <<\n${body}\n`, opts);
}

async function sendRaw(socketPath: string, text: string, opts: CommandOptions): Promise<string> {
  const deadline = Date.now() + (opts.retryMs ?? 2000);
  for (;;) {
    try {
      return await exchange(socketPath, text, false, opts.timeoutMs ?? 5000);
    } catch (err) {
      if (!RETRYABLE.has(errnoCode(err) ?? '') || Date.now() >= deadline) throw err;
      await sleep(50);
    }
  }
}
