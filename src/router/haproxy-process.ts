import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, openSync } from 'node:fs';
import fs from 'node:fs/promises';
import { promisify } from 'node:util';
import type { Logger } from '../log.js';
import { sleep } from '../sleep.js';
import { errorMessage } from '../errors.js';
import { routerPaths, type RouterPaths } from './haproxy-config.js';
import { adminCommand, masterCommand, parseShowProc, type ProcInfo } from './sockets.js';

/**
 * The HAProxy master process: its config file, start, stop, reload and liveness. The
 * master is spawned detached and unref'd, so it outlives the Node process (even kill -9
 * of Node): apps keep serving while the control plane restarts.
 */

const execFileAsync = promisify(execFile);

const START_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 5_000;
const NEW_WORKER_TIMEOUT_MS = 15_000;
/** hard-stop-after is 30 s, so old workers are gone by then; a little slack on top. */
const OLD_WORKERS_TIMEOUT_MS = 35_000;
const LOG_ROTATE_BYTES = 10 * 1024 * 1024;

export function defaultHaproxyBin(): string {
  // Debian installs it in /usr/sbin, which is often not on a non-root PATH.
  return existsSync('/usr/sbin/haproxy') ? '/usr/sbin/haproxy' : 'haproxy';
}

/** Linux: a killed master stays a zombie until its parent reaps it; a zombie serves nothing. */
export async function isAliveProcess(pid: number): Promise<boolean> {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    const stat = await fs.readFile(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return process.platform !== 'linux';
  }
}

export class HaproxyProcess {
  readonly paths: RouterPaths;
  readonly bin: string;
  /** Called when a master this process spawned exits; the watchdog uses it to react at once. */
  onExit: (() => void) | undefined;

  private readonly logger: Logger;

  constructor(opts: { dataDir: string; log: Logger; haproxyBin?: string }) {
    this.paths = routerPaths(opts.dataDir);
    this.logger = opts.log;
    this.bin = opts.haproxyBin ?? defaultHaproxyBin();
  }

  /** Validate with `haproxy -c`, then swap in by rename, so a reader never sees half a file. */
  async writeConfig(text: string): Promise<void> {
    await fs.mkdir(this.paths.dir, { recursive: true, mode: 0o700 });
    const temp = `${this.paths.config}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    await fs.writeFile(temp, text, { mode: 0o600 });
    try {
      await this.check(temp);
      await fs.rename(temp, this.paths.config);
    } catch (err) {
      await fs.rm(temp, { force: true });
      throw err;
    }
  }

  /** The config file as it is now, or null when there is none yet. */
  async readConfig(): Promise<string | null> {
    try {
      return await fs.readFile(this.paths.config, 'utf8');
    } catch {
      return null;
    }
  }

  /** `haproxy -c -f file`: throws with HAProxy's own words when the file is not valid. */
  async check(file: string): Promise<void> {
    try {
      await execFileAsync(this.bin, ['-c', '-q', '-f', file], { timeout: 30_000 });
    } catch (err) {
      const e = err as { stderr?: string; stdout?: string };
      const detail = `${e.stderr ?? ''}${e.stdout ?? ''}`.trim() || errorMessage(err);
      throw new Error(`HAProxy rejected the generated config: ${detail}`);
    }
  }

  /** The master's pid from the pidfile, if that process is alive and is our HAProxy. */
  async masterPid(): Promise<number | null> {
    let pid: number;
    try {
      pid = Number.parseInt(await fs.readFile(this.paths.pidFile, 'utf8'), 10);
    } catch {
      return null;
    }
    if (!Number.isInteger(pid) || pid <= 1 || !(await isAliveProcess(pid))) return null;
    // The pid may have been reused: only claim a process whose command line names our pidfile.
    try {
      const cmdline = (await fs.readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0');
      if (!cmdline.includes(this.paths.pidFile)) return null;
    } catch {
      if (process.platform === 'linux') return null;
    }
    return pid;
  }

  /** Running = the pidfile's master is alive AND its master socket answers. */
  async isRunning(): Promise<boolean> {
    if ((await this.masterPid()) === null) return false;
    // The master is alive; give a socket that is being re-created a few tries before giving up.
    for (let attempt = 0; attempt < 3; attempt += 1) {
      try {
        await this.showProc();
        return true;
      } catch {
        await sleep(200);
      }
    }
    return false;
  }

  showProc(): Promise<ProcInfo> {
    return masterCommand(this.paths.masterSocket, 'show proc', { retryMs: 1000, timeoutMs: 3000 }).then(parseShowProc);
  }

  admin(command: string): Promise<string> {
    return adminCommand(this.paths.adminSocket, command);
  }

  /** Start a master from the config file, stopping a leftover one first (two can bind one port). */
  async start(): Promise<void> {
    await this.stop();
    await fs.mkdir(this.paths.dir, { recursive: true, mode: 0o700 });
    await this.rotateLog();
    const out = openSync(this.paths.logFile, 'a', 0o600);
    const args = ['-W', '-S', `${this.paths.masterSocket},mode,600`, '-f', this.paths.config, '-p', this.paths.pidFile];
    const state: { exited: string | null } = { exited: null };
    const child = spawn(this.bin, args, { detached: true, stdio: ['ignore', out, out] });
    closeSync(out);
    child.on('error', (err) => {
      state.exited = errorMessage(err);
    });
    child.on('exit', (code, signal) => {
      state.exited = `exit code ${String(code)}, signal ${String(signal)}`;
      this.logger.warn({ pid: child.pid, code, signal }, 'haproxy master exited');
      this.onExit?.();
    });
    child.unref();
    const deadline = Date.now() + START_TIMEOUT_MS;
    for (;;) {
      if (state.exited !== null) throw new Error(`HAProxy did not start (${state.exited}): ${await this.logTail()}`);
      if (child.pid !== undefined && (await this.masterPid()) === child.pid && (await this.ready())) break;
      if (Date.now() > deadline) {
        throw new Error(`HAProxy did not become ready within ${START_TIMEOUT_MS} ms: ${await this.logTail()}`);
      }
      await sleep(50);
    }
    this.logger.info({ pid: child.pid }, 'haproxy started');
  }

  /** A worker is up and the admin socket answers. */
  private async ready(): Promise<boolean> {
    try {
      const proc = await masterCommand(this.paths.masterSocket, 'show proc', { retryMs: 0, timeoutMs: 1000 }).then(parseShowProc);
      if (proc.workers.length === 0) return false;
      await adminCommand(this.paths.adminSocket, 'show info', { retryMs: 0, timeoutMs: 1000 });
      return true;
    } catch {
      return false;
    }
  }

  /** Stop our master (and so its workers) if one runs: TERM, then KILL if it lingers. */
  async stop(): Promise<void> {
    const pid = await this.masterPid();
    if (pid !== null) {
      this.logger.info({ pid }, 'stopping haproxy');
      if (!(await this.signalAndWait(pid, 'SIGTERM', STOP_TIMEOUT_MS))) {
        this.logger.warn({ pid }, 'haproxy ignored SIGTERM; killing it');
        if (!(await this.signalAndWait(pid, 'SIGKILL', STOP_TIMEOUT_MS))) throw new Error(`HAProxy master ${pid} does not die`);
      }
    }
    await fs.rm(this.paths.pidFile, { force: true });
  }

  private async signalAndWait(pid: number, signal: NodeJS.Signals, timeoutMs: number): Promise<boolean> {
    try {
      process.kill(pid, signal);
    } catch {
      return true;
    }
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (!(await isAliveProcess(pid))) return true;
      await sleep(50);
    }
    return false;
  }

  /**
   * Reload through the master socket, then wait until a new worker serves, the admin
   * socket answers and the old workers have finished (bounded by hard-stop-after).
   */
  async reload(): Promise<void> {
    const before = await this.showProc();
    const oldPids = new Set(before.workers.map((w) => w.pid));
    const started = Date.now();
    try {
      await masterCommand(this.paths.masterSocket, 'reload', { timeoutMs: 5000 });
    } catch (err) {
      // The master re-executes itself and drops this connection: expected.
      this.logger.debug({ err: errorMessage(err) }, 'master socket closed on reload');
    }
    for (;;) {
      const proc = await this.showProc().catch(() => null);
      if (proc !== null && proc.master.failedReloads > before.master.failedReloads) {
        throw new Error(`HAProxy refused the new config on reload (the previous one keeps serving): ${await this.logTail()}`);
      }
      if (proc !== null && proc.master.reloads > before.master.reloads && proc.workers.some((w) => !oldPids.has(w.pid))) break;
      if (Date.now() - started > NEW_WORKER_TIMEOUT_MS) {
        throw new Error(`HAProxy started no new worker within ${NEW_WORKER_TIMEOUT_MS} ms of a reload: ${await this.logTail()}`);
      }
      await sleep(100);
    }
    await adminCommand(this.paths.adminSocket, 'show info', { retryMs: 5000 });
    for (;;) {
      const proc = await this.showProc().catch(() => null);
      if (proc !== null && proc.oldWorkers.length === 0) break;
      if (Date.now() - started > OLD_WORKERS_TIMEOUT_MS) {
        this.logger.warn({ oldWorkers: proc?.oldWorkers }, 'old haproxy workers still running after reload');
        break;
      }
      await sleep(100);
    }
    this.logger.info({ ms: Date.now() - started }, 'haproxy reloaded');
  }

  /** The last lines HAProxy wrote, for error messages. */
  async logTail(lines = 8): Promise<string> {
    try {
      const file = await fs.open(this.paths.logFile, 'r');
      try {
        const { size } = await file.stat();
        const length = Math.min(size, 8192);
        const { buffer } = await file.read(Buffer.alloc(length), 0, length, size - length);
        return buffer.toString('utf8').trimEnd().split('\n').slice(-lines).join(' | ');
      } finally {
        await file.close();
      }
    } catch {
      return '(no haproxy log)';
    }
  }

  private async rotateLog(): Promise<void> {
    try {
      const stat = await fs.stat(this.paths.logFile);
      if (stat.size > LOG_ROTATE_BYTES) await fs.rename(this.paths.logFile, `${this.paths.logFile}.1`);
    } catch {
      // No log yet.
    }
  }
}
