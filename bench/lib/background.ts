/**
 * Long-running helpers of the two-node bench (dockerd, the registry, forwarders): started
 * detached, so a Ctrl-C on the terminal reaches the bench only and the bench takes them
 * down in order (a worker must leave the swarm before its engine stops). Each writes its
 * pid to a file in the bench's state dir, so a later run can stop what a killed run left.
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import fs from 'node:fs/promises';
import { isAliveProcess } from '../../src/router/haproxy-process.js';
import { sleep } from './bench-exec.js';

export interface Background {
  name: string;
  pid: number;
  logFile: string;
  /** Resolves with how it ended ("code 1", "signal SIGTERM"). */
  exited: Promise<string>;
  /** True once it has exited. */
  readonly gone: boolean;
}

export async function startBackground(
  name: string,
  cmd: string,
  args: string[],
  files: { logFile: string; pidFile: string },
  opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {},
): Promise<Background> {
  const out = openSync(files.logFile, 'a');
  const child = spawn(cmd, args, { detached: true, stdio: ['ignore', out, out], env: opts.env ?? process.env, cwd: opts.cwd });
  closeSync(out);
  let gone = false;
  const exited = new Promise<string>((resolve) => {
    child.once('exit', (code, signal) => {
      gone = true;
      resolve(signal ? `signal ${signal}` : `code ${String(code)}`);
    });
    child.once('error', (err) => {
      gone = true;
      resolve(`spawn error ${err.message}`);
    });
  });
  // The bench must not wait for these to exit on its own way out.
  child.unref();
  if (child.pid === undefined) throw new Error(`${name}: could not start ${cmd}: ${await exited}`);
  await fs.writeFile(files.pidFile, `${child.pid}\n`);
  return {
    name,
    pid: child.pid,
    logFile: files.logFile,
    exited,
    get gone() {
      return gone;
    },
  };
}

/** The last lines of a log file, for failure messages. */
export async function logTail(file: string, lines = 25): Promise<string> {
  try {
    return (await fs.readFile(file, 'utf8')).trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once `pid` is gone. Only for pids the bench started. */
export async function stopPid(pid: number, graceMs: number): Promise<void> {
  if (!(await isAliveProcess(pid))) return;
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!(await isAliveProcess(pid))) return;
    await sleep(100);
  }
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    return;
  }
  for (let i = 0; i < 50 && (await isAliveProcess(pid)); i++) await sleep(100);
}

/** The command line of a live process, '' when it is gone. */
export async function processCommand(pid: number): Promise<string> {
  try {
    return (await fs.readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0').join(' ').trim();
  } catch {
    return '';
  }
}

/**
 * Stops the process a previous run recorded in `pidFile`, if it is still alive and still
 * runs `expect` (a reused pid of someone else's process is left alone).
 */
export async function stopRecorded(pidFile: string, expect: string, graceMs: number): Promise<number | null> {
  let pid: number;
  try {
    pid = Number.parseInt(await fs.readFile(pidFile, 'utf8'), 10);
  } catch {
    return null;
  }
  if (!Number.isInteger(pid) || pid <= 1) return null;
  if (!(await processCommand(pid)).includes(expect)) return null;
  await stopPid(pid, graceMs);
  return pid;
}
