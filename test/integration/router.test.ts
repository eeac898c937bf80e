import fs from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { log } from '../../src/log.js';
import { renderHaproxyConfig, type RouteSpec, type Target } from '../../src/router/haproxy-config.js';
import { HaproxyRouter } from '../../src/router/haproxy-router.js';
import type { Route } from '../../src/router/types.js';
import { freeLoopbackPort as freePort } from '../helpers/http.js';

/**
 * The router against a real HAProxy 2.6, with small node:http servers in this process as
 * the "containers". Figures are printed so a run documents what was measured.
 */

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

interface LoadResult {
  total: number;
  errors: number;
  timeouts: number;
  non2xx: number;
}

interface AutocannonResult {
  requests: { total: number };
  errors: number;
  timeouts: number;
  non2xx: number;
}

/** ~20 keep-alive connections hammering one URL for a while. */
async function load(url: string, seconds: number): Promise<LoadResult> {
  const run = autocannon as unknown as (opts: object) => Promise<AutocannonResult>;
  const r = await run({ url, connections: 20, duration: seconds });
  return { total: r.requests.total, errors: r.errors, timeouts: r.timeouts, non2xx: r.non2xx };
}


interface Backend {
  name: string;
  target: Target;
  server: http.Server;
}

/** Answers its name; /slow answers after 2 s (an in-flight request during a switch). */
async function backend(name: string): Promise<Backend> {
  const server = http.createServer((req, res) => {
    const reply = (): void => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(name);
    };
    if (req.url === '/slow') setTimeout(reply, 2000);
    else reply();
  });
  // Longer than HAProxy keeps idle server connections, so no reuse races a close.
  server.keepAliveTimeout = 60_000;
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return { name, target: { host: '127.0.0.1', port }, server };
}

function get(port: number, urlPath = '/'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: urlPath, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
  });
}

async function waitUntilServing(port: number, body: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await get(port).catch(() => null);
    if (r?.status === 200 && r.body === body) return;
    if (Date.now() > deadline) throw new Error(`port ${port} does not answer ${body}`);
    await sleep(10);
  }
}

async function readPid(file: string): Promise<number> {
  return Number.parseInt(await fs.readFile(file, 'utf8'), 10);
}

/** Waits until the pidfile names a live master other than `old`: the watchdog restarted it. */
async function waitForNewMaster(pidFile: string, old: number, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const pid = await readPid(pidFile).catch(() => old);
    if (pid !== old && alive(pid)) return pid;
    if (Date.now() > deadline) throw new Error(`no new HAProxy master within ${timeoutMs} ms`);
    await sleep(10);
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const route = (app: string, port: number, ...targets: Target[]): Route => ({ app, port, targets });

describe('HaproxyRouter against real HAProxy', () => {
  let dataDir: string;
  let router: HaproxyRouter;
  let adopter: HaproxyRouter | undefined;
  const backends: Backend[] = [];
  let a: Backend, b: Backend, c: Backend;
  let port1: number, port2: number;
  const newRouter = (): HaproxyRouter => new HaproxyRouter({ dataDir, appBind: '127.0.0.1', drainTimeoutMs: 10_000, log });

  beforeAll(async () => {
    dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'minpaas-router-'));
    [a, b, c] = [await backend('A'), await backend('B'), await backend('C')];
    backends.push(a, b, c);
    port1 = await freePort();
    port2 = await freePort();
    router = newRouter();
  });

  afterAll(async () => {
    adopter?.close();
    router.close();
    // Whichever instance started the current master, stopping by pidfile reaches it.
    await router.stopProcess().catch(() => undefined);
    await Promise.all(backends.map((x) => new Promise((resolve) => x.server.close(resolve))));
    for (const x of backends) x.server.closeAllConnections();
    await fs.rm(dataDir, { recursive: true, force: true });
  });

  it('starts with no apps, then serves a new app from backend A (its port added by a reload)', async () => {
    await router.ensureRunning([]);
    expect(await router.process.isRunning()).toBe(true);
    expect(await router.serve(route('one', port1, a.target))).toEqual({ added: true, drained: true, drainMs: 0 });
    expect(await get(port1)).toEqual({ status: 200, body: 'A' });
    expect(router.routes()).toEqual([route('one', port1, a.target)]);
  });

  it('switches to backend B under load with no error, draining a 2 s in-flight request', async () => {
    const loading = load(`http://127.0.0.1:${port1}/`, 4);
    await sleep(1000);
    const slowStarted = Date.now();
    let slowDoneAt = 0;
    const slow = get(port1, '/slow').then((r) => {
      slowDoneAt = Date.now();
      return r;
    });
    await sleep(200);
    const switchStarted = performance.now();
    const result = await router.serve(route('one', port1, b.target));
    const switchMs = performance.now() - switchStarted;
    const switchDoneAt = Date.now();
    await router.persist();
    const slowResult = await slow;
    const loadResult = await loading;
    console.log(
      `switch under load: serve returned after ${switchMs.toFixed(0)} ms ` +
        `(switch ${(switchMs - result.drainMs).toFixed(0)} ms + drain ${result.drainMs} ms), ` +
        `2 s request answered ${slowResult.status} after ${slowDoneAt - slowStarted} ms; ` +
        `load ${loadResult.total} requests, ${loadResult.errors} errors, ${loadResult.non2xx} non-2xx`,
    );
    expect(result.added).toBe(false);
    expect(result.drained).toBe(true);
    expect(result.drainMs).toBeGreaterThan(1000);
    expect(slowResult).toEqual({ status: 200, body: 'A' });
    expect(slowDoneAt).toBeLessThanOrEqual(switchDoneAt);
    expect(loadResult.errors).toBe(0);
    expect(loadResult.non2xx).toBe(0);
    expect(loadResult.total).toBeGreaterThan(100);
    expect(await get(port1)).toEqual({ status: 200, body: 'B' });
    expect(await router.process.readConfig()).toContain(`127.0.0.1:${b.target.port}`);
  });

  it('adds a second app by reload while the first is under load, with no error', async () => {
    const before = await router.process.showProc();
    const loading = load(`http://127.0.0.1:${port1}/`, 4);
    await sleep(1000);
    const started = performance.now();
    await router.serve(route('two', port2, c.target));
    const applyMs = performance.now() - started;
    const loadResult = await loading;
    console.log(
      `reload under load: serve() of a new app took ${applyMs.toFixed(0)} ms; ` +
        `load ${loadResult.total} requests, ${loadResult.errors} errors, ${loadResult.non2xx} non-2xx`,
    );
    const after = await router.process.showProc();
    expect(after.master.reloads).toBe(before.master.reloads + 1);
    expect(after.oldWorkers).toEqual([]);
    expect(loadResult.errors).toBe(0);
    expect(loadResult.non2xx).toBe(0);
    expect(await get(port1)).toEqual({ status: 200, body: 'B' });
    expect(await get(port2)).toEqual({ status: 200, body: 'C' });
  });

  it('ensureRunning re-applies the given targets at runtime without a reload', async () => {
    // Runtime drifts (as after a crash mid-swap): app one back on A.
    await router.process.admin(
      `set server be_one/blue1 addr 127.0.0.1 port ${a.target.port} ; set server be_one/blue1 state ready ; set server be_one/green1 state maint`,
    );
    expect(await get(port1)).toEqual({ status: 200, body: 'A' });
    const before = await router.process.showProc();
    await router.ensureRunning([route('one', port1, b.target), route('two', port2, c.target)]);
    const after = await router.process.showProc();
    expect(after.master).toEqual(before.master);
    expect(await get(port1)).toEqual({ status: 200, body: 'B' });
    expect(await get(port2)).toEqual({ status: 200, body: 'C' });
  });

  it('a reload right after a switch keeps the switch (every render is made from what serves)', async () => {
    await router.serve(route('one', port1, a.target));
    const port4 = await freePort();
    await router.serve(route('four', port4, c.target)); // a reload, before any persist
    expect(await get(port1)).toEqual({ status: 200, body: 'A' });
    await router.serve(route('one', port1, b.target));
    await router.remove('four');
    await expect(get(port4)).rejects.toThrow(/ECONNREFUSED/);
    expect(await get(port1)).toEqual({ status: 200, body: 'B' });
  });

  it('does not reload onto a port another program holds: throws, keeps serving, keeps the file', async () => {
    const squatter = net.createServer();
    const taken = await freePort();
    await new Promise<void>((resolve) => squatter.listen(taken, '127.0.0.1', resolve));
    try {
      const fileBefore = await router.process.readConfig();
      const routesBefore = router.routes();
      const before = await router.process.showProc();
      await expect(router.serve(route('three', taken, c.target))).rejects.toThrow(new RegExp(`port ${taken} of app three is in use`));
      expect((await router.process.showProc()).master).toEqual(before.master);
      expect(await router.process.readConfig()).toBe(fileBefore);
      expect(router.routes()).toEqual(routesBefore);
      // Forced past that check, HAProxy refuses the reload and the old worker keeps serving.
      const bad: RouteSpec[] = [
        { app: 'one', port: port1, slot: 'blue', targets: [b.target] },
        { app: 'three', port: taken, slot: 'blue', targets: [c.target] },
      ];
      await router.process.writeConfig(renderHaproxyConfig(bad, { dataDir, appBind: '127.0.0.1' }));
      const started = performance.now();
      await expect(router.process.reload()).rejects.toThrow(/refused the new config.*Address already in use/);
      console.log(`refused reload detected after ${(performance.now() - started).toFixed(0)} ms`);
      await router.process.writeConfig(fileBefore ?? '');
      expect(await get(port1)).toEqual({ status: 200, body: 'B' });
      expect(await get(port2)).toEqual({ status: 200, body: 'C' });
    } finally {
      await new Promise((resolve) => squatter.close(resolve));
    }
  });

  it('answers 503 for an app without a running release', async () => {
    const port3 = await freePort();
    await router.serve(route('idle', port3));
    expect((await get(port3)).status).toBe(503);
  });

  it('restarts HAProxy at once after kill -9 of its master (watchdog, own child), with what served', async () => {
    router.startWatchdog();
    const pidFile = router.process.paths.pidFile;
    const pid = await readPid(pidFile);
    const started = performance.now();
    process.kill(pid, 'SIGKILL');
    // The old worker may answer for a moment after its master died: wait for the new master first.
    const fresh = await waitForNewMaster(pidFile, pid, 10_000);
    await waitUntilServing(port1, 'B', 10_000);
    await waitUntilServing(port2, 'C', 10_000);
    const ms = performance.now() - started;
    console.log(`kill -9 of the master (our child): every route serves again after ${ms.toFixed(0)} ms`);
    expect(fresh).not.toBe(pid);
  });

  it('a new control plane adopts the running HAProxy and its watchdog restarts it after kill -9', async () => {
    router.close();
    const pidFile = router.process.paths.pidFile;
    const pid = await readPid(pidFile);
    adopter = newRouter();
    const reloads = (await adopter.process.showProc()).master.reloads;
    await adopter.ensureRunning(router.routes());
    // Same master, no reload: it kept serving across the "control plane restart".
    expect(await readPid(pidFile)).toBe(pid);
    expect((await adopter.process.showProc()).master.reloads).toBe(reloads);
    adopter.startWatchdog();
    const started = performance.now();
    process.kill(pid, 'SIGKILL');
    await waitForNewMaster(pidFile, pid, 10_000);
    await waitUntilServing(port1, 'B', 10_000);
    await waitUntilServing(port2, 'C', 10_000);
    const ms = performance.now() - started;
    console.log(`kill -9 of the master (found by the 1 s poll): every route serves again after ${ms.toFixed(0)} ms`);
  });

  it('stopProcess stops HAProxy and frees the ports', async () => {
    await (adopter ?? router).stopProcess();
    expect(await router.process.masterPid()).toBeNull();
    expect(await router.process.isRunning()).toBe(false);
    await expect(get(port1)).rejects.toThrow(/ECONNREFUSED/);
  });
});
