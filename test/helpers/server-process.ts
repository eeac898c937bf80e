import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isAliveProcess } from '../../src/router/haproxy-process.js';
import { run } from './git.js';
import { apiRequest, freeLoopbackPort, httpGet, type ApiResult } from './http.js';
import { TEST_TOKEN } from './server.js';

/**
 * A MinPaas server as a separate process (`node --import tsx src/cli.ts server`), on a
 * fixed data dir and port, so a test can kill -9 it, stop it and start it again. Its
 * stdout/stderr go to a log file; `logTail()` puts the end of it into failure messages.
 */

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A port nobody listens on right now. */
export const freePort = freeLoopbackPort;

/** Alive and not a zombie (a killed process stays a zombie until its parent reaps it). */
export const isAlive = isAliveProcess;

/** Waits until `pid` is gone; false when it is still alive after `timeoutMs`. */
export async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!(await isAlive(pid))) return true;
    await sleep(25);
  }
  return !(await isAlive(pid));
}

/** Child pids of `pid` (`pgrep -P`). */
export async function childPids(pid: number): Promise<number[]> {
  const res = await run('pgrep', ['-P', String(pid)]);
  return res.stdout
    .split('\n')
    .map((l) => Number.parseInt(l, 10))
    .filter((n) => Number.isInteger(n));
}

export type { ApiResult } from './http.js';

export interface ServerProcessOptions {
  /** Extra environment for the server. */
  env?: Record<string, string>;
  /** How long `start()` waits for /healthz (default 90 s). */
  startTimeoutMs?: number;
}

export class ServerProcess {
  private child: ChildProcess | null = null;
  private exited: Promise<void> = Promise.resolve();
  /** How each child ended, oldest first ("code 0", "signal SIGKILL"). */
  readonly exits: string[] = [];
  private starts = 0;

  private constructor(
    readonly dataDir: string,
    readonly port: number,
    readonly logFile: string,
    private readonly tempDir: string,
    private readonly options: ServerProcessOptions,
  ) {}

  /** Makes a fresh data dir and picks a free port; does not start anything yet. */
  static async create(options: ServerProcessOptions = {}): Promise<ServerProcess> {
    const tempDir = await fs.mkdtemp(path.join(os.tmpdir(), 'minpaas-proc-'));
    const dataDir = path.join(tempDir, 'data');
    await fs.mkdir(dataDir);
    return new ServerProcess(dataDir, await freePort(), path.join(tempDir, 'server.log'), tempDir, options);
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get pid(): number | null {
    return this.child?.pid ?? null;
  }

  get running(): boolean {
    return this.child !== null;
  }

  /** The HAProxy master's pidfile. */
  get haproxyPidFile(): string {
    return path.join(this.dataDir, 'router', 'haproxy.pid');
  }

  /** `http://x:TOKEN@127.0.0.1:PORT/APP.git` */
  remote(app: string): string {
    return `http://x:${encodeURIComponent(TEST_TOKEN)}@127.0.0.1:${this.port}/${app}.git`;
  }

  /** Starts the server and waits until /healthz answers. Resolves to the ms it took. */
  async start(): Promise<number> {
    if (this.child) throw new Error('the server process is already running');
    const started = performance.now();
    this.starts += 1;
    await fs.appendFile(this.logFile, `\n===== start #${this.starts} at ${new Date().toISOString()} =====\n`);
    const out = openSync(this.logFile, 'a');
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'server'], {
      cwd: REPO_ROOT,
      env: {
        ...process.env,
        MINPAAS_DATA_DIR: this.dataDir,
        MINPAAS_PORT: String(this.port),
        MINPAAS_HOST: '127.0.0.1',
        MINPAAS_TOKEN: TEST_TOKEN,
        MINPAAS_HEALTH_TIMEOUT: '20',
        MINPAAS_DRAIN_TIMEOUT: '10',
        MINPAAS_LOG_LEVEL: 'info',
        MINPAAS_AUTH_FAILURES_PER_MINUTE: '1000000',
        ...this.options.env,
      },
      stdio: ['ignore', out, out],
    });
    closeSync(out);
    this.child = child;
    this.exited = new Promise<void>((resolve) => {
      child.once('exit', (code, signal) => {
        this.exits.push(signal ? `signal ${signal}` : `code ${String(code)}`);
        if (this.child === child) this.child = null;
        resolve();
      });
    });
    const deadline = Date.now() + (this.options.startTimeoutMs ?? 90_000);
    for (;;) {
      if (this.child !== child) {
        throw new Error(`the MinPaas server exited during start-up (${this.exits.at(-1)}):\n${await this.logTail()}`);
      }
      if (await this.healthy()) return Math.round(performance.now() - started);
      if (Date.now() > deadline) {
        throw new Error(`the MinPaas server did not answer /healthz in time:\n${await this.logTail()}`);
      }
      await sleep(100);
    }
  }

  /** GET /healthz answers 200. */
  async healthy(): Promise<boolean> {
    try {
      const res = await fetch(`${this.url}/healthz`, { signal: AbortSignal.timeout(2000) });
      await res.text();
      return res.ok;
    } catch {
      return false;
    }
  }

  /** SIGTERM (a graceful stop: the router keeps running); SIGKILL after `timeoutMs`. */
  async stop(timeoutMs = 20_000): Promise<void> {
    const child = this.child;
    if (!child) return;
    child.kill('SIGTERM');
    const done = await Promise.race([this.exited.then(() => true), sleep(timeoutMs).then(() => false)]);
    if (!done) {
      child.kill('SIGKILL');
      await this.exited;
      throw new Error(`the MinPaas server ignored SIGTERM for ${timeoutMs} ms:\n${await this.logTail()}`);
    }
  }

  /** kill -9 of the server itself; resolves once it is gone. */
  async kill9(): Promise<void> {
    const child = this.child;
    if (!child) return;
    child.kill('SIGKILL');
    await this.exited;
  }

  async restart(): Promise<number> {
    await this.stop();
    return this.start();
  }

  api(method: string, pathname: string, body?: unknown): Promise<ApiResult> {
    return apiRequest(this.url, TEST_TOKEN, method, pathname, body);
  }

  /** The HAProxy master pid from its pidfile, if that process is alive. */
  async haproxyPid(): Promise<number | null> {
    try {
      const pid = Number.parseInt(await fs.readFile(this.haproxyPidFile, 'utf8'), 10);
      return Number.isInteger(pid) && pid > 1 && (await isAlive(pid)) ? pid : null;
    } catch {
      return null;
    }
  }

  /** The last lines the server wrote. */
  async logTail(lines = 60): Promise<string> {
    try {
      return (await fs.readFile(this.logFile, 'utf8')).trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '(no server log)';
    }
  }

  /** The installation id: every container and image this server creates carries it. */
  async instanceId(): Promise<string | null> {
    try {
      return (await fs.readFile(path.join(this.dataDir, 'instance-id'), 'utf8')).trim() || null;
    } catch {
      return null;
    }
  }

  /**
   * Destroys every app of this data dir through the API (with the server running; it is
   * started for that when it is not), stops the server, then HAProxy by its pidfile (in
   * that order: the server's watchdog would restart HAProxy), and removes the data dir. Anything left (the server would not start) is removed by this
   * installation's own label, never anything else.
   */
  async cleanup(): Promise<void> {
    const problems: string[] = [];
    if (!this.child) {
      await this.start().catch((err) => problems.push(`could not start the server for clean-up: ${String(err)}`));
    }
    if (this.child) {
      try {
        const list = await this.api('GET', '/apps');
        for (const app of (list.json ?? []) as Array<{ name: string }>) {
          const res = await this.api('DELETE', `/apps/${app.name}`).catch((err) => ({ status: 0, text: String(err) }));
          if (res.status >= 300) problems.push(`DELETE /apps/${app.name}: ${res.status} ${res.text}`);
        }
      } catch (err) {
        problems.push(`listing apps failed: ${String(err)}`);
      }
    }
    // The server first: its watchdog would start HAProxy again.
    await this.stop().catch((err) => problems.push(String(err)));
    await this.kill9();
    await this.stopHaproxy().catch((err) => problems.push(String(err)));
    // Only what carries this installation's id: containers and images it created.
    const instance = await this.instanceId();
    if (instance) {
      const filter = `label=minpaas.instance=${instance}`;
      const containers = (await run('docker', ['ps', '-aq', '--filter', filter])).stdout.split('\n').filter(Boolean);
      if (containers.length) {
        problems.push(`containers left after clean-up: ${containers.join(' ')}`);
        await run('docker', ['rm', '-f', ...containers]);
      }
      const images = (await run('docker', ['images', '-q', '--filter', filter])).stdout.split('\n').filter(Boolean);
      if (images.length) await run('docker', ['rmi', '-f', ...new Set(images)]);
    }
    await fs.rm(this.tempDir, { recursive: true, force: true });
    if (problems.length) console.warn(`clean-up of ${this.dataDir}:\n  ${problems.join('\n  ')}`);
  }

  /** SIGTERM to the HAProxy master from the pidfile, then wait until it (and its workers) exit. */
  async stopHaproxy(): Promise<void> {
    const pid = await this.haproxyPid();
    if (pid === null) return;
    const workers = await childPids(pid);
    process.kill(pid, 'SIGTERM');
    if (!(await waitForExit(pid, 10_000))) {
      process.kill(pid, 'SIGKILL');
      if (!(await waitForExit(pid, 5000))) throw new Error(`HAProxy master ${pid} does not exit`);
    }
    for (const worker of workers) await waitForExit(worker, 5000);
  }
}

export interface PollFailure {
  atMs: number;
  error: string;
}

/**
 * Polls GET / of an app port every `intervalMs` until stopped, counting answers that are
 * not 200 or do not match `expected`. Start it before a fault, stop it after.
 */
export class AppPoller {
  ok = 0;
  readonly failures: PollFailure[] = [];
  private stopped = false;
  private readonly loop: Promise<void>;
  private readonly started = performance.now();

  constructor(
    readonly port: number,
    readonly expected: RegExp,
    intervalMs = 100,
  ) {
    this.loop = (async () => {
      while (!this.stopped) {
        const t = performance.now();
        const res = await httpGet(port, '/', 5000);
        const atMs = Math.round(t - this.started);
        if (res === null) this.failures.push({ atMs, error: 'no answer (refused, reset or timeout)' });
        else if (res.status !== 200 || !expected.test(res.body)) this.failures.push({ atMs, error: `HTTP ${res.status}: ${res.body.trim().slice(0, 200)}` });
        else this.ok += 1;
        const left = intervalMs - (performance.now() - t);
        if (left > 0) await sleep(left);
      }
    })();
  }

  async stop(): Promise<{ ok: number; failures: PollFailure[] }> {
    this.stopped = true;
    await this.loop;
    return { ok: this.ok, failures: this.failures };
  }

  summary(): string {
    const shown = this.failures.slice(0, 10).map((f) => `  +${f.atMs} ms: ${f.error}`);
    return `${this.ok} ok, ${this.failures.length} failed on port ${this.port}${shown.length ? `:\n${shown.join('\n')}` : ''}`;
  }
}
