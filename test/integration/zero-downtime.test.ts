import http from 'node:http';
import autocannon from 'autocannon';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeApp } from '../fixtures/apps.js';
import { AppRepo } from '../helpers/git.js';
import { eventually, httpGet } from '../helpers/http.js';
import { startTestServer, uniqueName, type TestServer } from '../helpers/server.js';
import type { Autocannon, AutocannonClient, AutocannonInstance, AutocannonResult } from '../helpers/autocannon.js';
import { backendCounters, troubleDeltas } from '../helpers/haproxy-stats.js';

/**
 * Zero downtime, end to end: a push, a config change and a rollback, each under load
 * (autocannon keep-alive connections plus two strict keep-alive clients that count every
 * socket error), while slow (2 s) requests start every 200 ms. Nothing may fail, every
 * slow request must finish, and the answers must really move to the new release.
 * Figures are printed, not asserted.
 */

const CONNECTIONS = 16;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The node fixture's server (same `/` body, same 2 s `/slow`), plus an `x-instance`
 * header unique to each container start (to tell the old container from the new one
 * even when the image is the same) and `/hang`, a 25 s request for the drain bound.
 */
function zdApp(message: string): Record<string, string> {
  return nodeApp(message, {
    'server.js': `const http = require('http');
const port = Number(process.env.PORT);
const instance = Math.random().toString(36).slice(2, 10);
const server = http.createServer((req, res) => {
  res.setHeader('x-instance', instance);
  if (req.url === '/slow') return setTimeout(() => res.end('slow done\\n'), 2000);
  if (req.url === '/hang') return setTimeout(() => res.end('hang done\\n'), 25000);
  res.end(${JSON.stringify(message)} + ' port=' + process.env.PORT + ' greeting=' + (process.env.GREETING || '') + '\\n');
});
server.listen(port, () => console.log('booted ${message} on ' + port));
`,
  });
}

const body = (message: string, greeting = ''): string => `${message} port=3000 greeting=${greeting}\n`;

/** Every event gets the next number: "after" and "before" without clocks. */
let seq = 0;

interface Seen {
  count: number;
  first: number;
  last: number;
}

function see(map: Map<string, Seen>, key: string): void {
  const s = ++seq;
  const entry = map.get(key);
  if (entry) {
    entry.count++;
    entry.last = s;
  } else map.set(key, { count: 1, first: s, last: s });
}

interface SlowResult {
  status: number;
  body: string;
  instance: string;
  error: string | null;
  /** Sent on a kept-alive connection that had served an earlier request. */
  reused: boolean;
  /** seq when it finished */
  done: number;
}

/** A request on its own connection; never rejects. */
function request(port: number, pathname: string, agent: http.Agent | false): Promise<SlowResult> {
  return new Promise((resolve) => {
    const finish = (r: Omit<SlowResult, 'done' | 'reused'>): void => resolve({ ...r, reused: req.reusedSocket, done: ++seq });
    const req: http.ClientRequest = http.get({ host: '127.0.0.1', port, path: pathname, agent }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => finish({ status: res.statusCode ?? 0, body: text, instance: String(res.headers['x-instance'] ?? ''), error: null }));
      res.on('error', (err) => finish({ status: res.statusCode ?? 0, body: text, instance: '', error: err.message }));
    });
    req.on('error', (err) => finish({ status: 0, body: '', instance: '', error: `${(err as NodeJS.ErrnoException).code ?? ''} ${err.message}` }));
  });
}


interface PhaseResult {
  name: string;
  load: AutocannonResult;
  /** Connections the server side ended while autocannon waited for an answer: autocannon retries those silently. */
  closedWithRequestInFlight: number;
  /** Connections the server side ended at all (none expected: no reload happens). */
  closedByPeer: number;
  strict: { requests: number; errors: string[]; non200: number };
  /** A keep-alive client that idles 3 s between requests, so its connection sits idle across the switch and the retirement. */
  idle: { requests: number; reused: number; errors: string[]; non200: number };
  bodies: Map<string, Seen>;
  instances: Map<string, Seen>;
  slow: SlowResult[];
  opMs: number;
  haproxy: Record<string, number>;
}


/**
 * Runs `op` under load: autocannon (bounded by a duration cap, stopped 1 s after the old
 * container is gone), two strict keep-alive clients, and a slow request every 200 ms
 * from the moment `op` starts until it returns.
 */
async function underLoad(t: TestServer, app: string, port: number, name: string, op: () => Promise<void>): Promise<PhaseResult> {
  const bodies = new Map<string, Seen>();
  const instances = new Map<string, Seen>();
  const track = (text: string, instance: string): void => {
    see(bodies, text);
    see(instances, instance);
  };
  let closedWithRequestInFlight = 0;
  let closedByPeer = 0;
  const statsBefore = await backendCounters(t.dataDir, app);

  const run = autocannon as unknown as Autocannon;
  let instance!: AutocannonInstance;
  const loaded = new Promise<AutocannonResult>((resolve, reject) => {
    instance = run(
      {
        url: `http://127.0.0.1:${port}`,
        connections: CONNECTIONS,
        duration: 120, // a cap: the phase stops it as soon as the operation is over
        requests: [{ method: 'GET', path: '/', onResponse: (_status: number, text: string, _ctx: unknown, headers: Record<string, string>) => track(text, headers['x-instance'] ?? '') }],
        setupClient: (client: AutocannonClient) => {
          const connect = client._connect;
          client._connect = function (this: AutocannonClient) {
            connect.call(this);
            const conn = this.conn;
            conn.prependListener('end', () => {
              if (this.destroyed) return;
              closedByPeer++;
              if (this.pipelinedRequests.size() > 0) closedWithRequestInFlight++;
            });
          };
        },
      },
      (err, result) => (err ? reject(err) : resolve(result)),
    );
  });

  let stopped = false;
  const strict = { requests: 0, errors: [] as string[], non200: 0 };
  const strictClient = async (): Promise<void> => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    while (!stopped) {
      const r = await request(port, '/', agent);
      strict.requests++;
      if (r.error) strict.errors.push(r.error);
      else if (r.status !== 200) strict.non200++;
      else track(r.body, r.instance);
    }
    agent.destroy();
  };
  const idle = { requests: 0, reused: 0, errors: [] as string[], non200: 0 };
  const idleClient = async (): Promise<void> => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    while (!stopped) {
      const r = await request(port, '/', agent);
      idle.requests++;
      if (r.reused) idle.reused++;
      if (r.error) idle.errors.push(r.error);
      else if (r.status !== 200) idle.non200++;
      for (let i = 0; i < 30 && !stopped; i++) await sleep(100);
    }
    agent.destroy();
  };
  const strictClients = [strictClient(), strictClient(), idleClient()];

  const slow: Promise<SlowResult>[] = [];
  let opMs = 0;
  let load: AutocannonResult;
  try {
    await sleep(1000);
    slow.push(request(port, '/slow', false));
    const pump = setInterval(() => slow.push(request(port, '/slow', false)), 200);
    const started = performance.now();
    try {
      await op();
    } finally {
      clearInterval(pump);
    }
    opMs = performance.now() - started;
    // The old container is stopped in the background after a push answers: keep the load on until it is gone.
    await eventually(async () => {
      const names = await t.docker.listOwnedContainerNames(app);
      if (names.length !== 1) throw new Error(`containers of ${app}: ${names.join(', ')}`);
    }, 60_000);
    await sleep(1000);
  } finally {
    // Whatever happened, the load ends here.
    instance.stop();
    stopped = true;
    [load] = await Promise.all([loaded, ...strictClients]);
  }
  const slowResults = await Promise.all(slow);
  const statsAfter = await backendCounters(t.dataDir, app);
  const haproxy = troubleDeltas(statsBefore, statsAfter);

  const result: PhaseResult = { name, load, closedWithRequestInFlight, closedByPeer, strict, idle, bodies, instances, slow: slowResults, opMs, haproxy };
  report(result);
  return result;
}

function report(r: PhaseResult): void {
  const slowOk = r.slow.filter((s) => s.status === 200 && s.body === 'slow done\n').length;
  const bodies = [...r.bodies.entries()].sort((a, b) => a[1].first - b[1].first).map(([k, v]) => `${JSON.stringify(k.trim())}×${v.count}`);
  console.log(
    `[zero-downtime] ${r.name}: op ${(r.opMs / 1000).toFixed(1)} s; autocannon ${r.load.requests.total} requests in ${r.load.duration} s, ` +
      `${r.load.non2xx} non-2xx, ${r.load.errors} errors (${r.load.timeouts} timeouts), p50 ${r.load.latency.p50} ms, p99 ${r.load.latency.p99} ms, max ${r.load.latency.max} ms; ` +
      `server-closed connections ${r.closedByPeer} (${r.closedWithRequestInFlight} with a request in flight); ` +
      `strict keep-alive clients ${r.strict.requests} requests, ${r.strict.errors.length} errors, ${r.strict.non200} non-200; ` +
      `idle keep-alive client ${r.idle.requests} requests (${r.idle.reused} on a reused connection), ${r.idle.errors.length} errors, ${r.idle.non200} non-200; ` +
      `slow requests ${slowOk}/${r.slow.length} ok; bodies ${bodies.join(', ')}; haproxy backend deltas ${JSON.stringify(r.haproxy)}`,
  );
  for (const s of r.slow) if (s.status !== 200 || s.body !== 'slow done\n') console.log(`[zero-downtime]   slow request failed: ${JSON.stringify(s)}`);
  for (const e of r.strict.errors.slice(0, 10)) console.log(`[zero-downtime]   strict client error: ${e}`);
  for (const e of r.idle.errors) console.log(`[zero-downtime]   idle client error: ${e}`);
}

/** The assertions every phase shares: nothing failed, and traffic moved from `from` to `to`. */
function expectSwitched(r: PhaseResult, from: string, to: string): void {
  expect(r.load.requests.total).toBeGreaterThan(0);
  expect(r.load.errors).toBe(0);
  expect(r.load.timeouts).toBe(0);
  expect(r.load.non2xx).toBe(0);
  expect(r.closedWithRequestInFlight).toBe(0);
  expect(r.strict.errors).toEqual([]);
  expect(r.strict.non200).toBe(0);
  expect(r.strict.requests).toBeGreaterThan(0);
  expect(r.idle.errors).toEqual([]);
  expect(r.idle.non200).toBe(0);
  expect(r.idle.reused).toBeGreaterThan(0);

  // Every slow request (one started every 200 ms through the whole operation) finished.
  expect(r.slow.length).toBeGreaterThan(1);
  for (const s of r.slow) expect({ status: s.status, body: s.body, error: s.error }).toEqual({ status: 200, body: 'slow done\n', error: null });

  // The content switched: the old body, then the new one, and nothing else; the last answer is the new one.
  expect([...r.bodies.keys()].sort()).toEqual([from, to].sort());
  const old = r.bodies.get(from)!;
  const neu = r.bodies.get(to)!;
  expect(old.first).toBeLessThan(neu.first);
  expect(neu.last).toBeGreaterThan(old.last);

  // Two containers served: the old one first, then the new one.
  const byFirst = [...r.instances.entries()].sort((a, b) => a[1].first - b[1].first);
  expect(byFirst).toHaveLength(2);
  const [oldInstance, newInstance] = [byFirst[0]!, byFirst[1]!];
  expect(oldInstance[1].last).toBeLessThan(newInstance[1].last);
  // Drained, not cut: some slow request held by the old container finished after the new one had
  // started to answer, i.e. it was in flight across the switch and the old container waited for it.
  const heldAcross = r.slow.filter((s) => s.instance === oldInstance[0] && s.done > newInstance[1].first);
  expect(heldAcross.length).toBeGreaterThan(0);
}

describe('zero downtime: pushes, config changes and rollbacks under load', () => {
  let t: TestServer;
  let repo: AppRepo;
  const app = uniqueName('zd');
  let port: number;

  beforeAll(async () => {
    t = await startTestServer();
    repo = await AppRepo.create(zdApp('v1'));
    const res = await repo.push(t.remote(app));
    expect(res.code, res.output).toBe(0);
    port = t.server.store.getApp(app)!.port;
    expect(await httpGet(port)).toMatchObject({ status: 200, body: body('v1') });
  });

  afterAll(async () => {
    await t?.cleanup();
    await repo?.remove();
  });

  it('a git push drops no request, drains in-flight slow requests, and serves the new code', async () => {
    await repo.commit(zdApp('v2'), 'v2');
    let output = '';
    const r = await underLoad(t, app, port, 'push v1 → v2', async () => {
      const res = await repo.push(t.remote(app));
      output = res.output;
      expect(res.code, res.output).toBe(0);
    });
    expect(output).toMatch(/Switched traffic; old release drained in \d+ ms/);
    expectSwitched(r, body('v1'), body('v2'));
    expect(await httpGet(port)).toMatchObject({ status: 200, body: body('v2') });
  });

  it('a config change drops no request and serves the new config', async () => {
    const r = await underLoad(t, app, port, 'config GREETING=two', async () => {
      const res = await t.api('PATCH', `/apps/${app}/config`, { GREETING: 'two' });
      expect(res.status, res.text).toBe(200);
    });
    expectSwitched(r, body('v2'), body('v2', 'two'));
    expect(await httpGet(port)).toMatchObject({ status: 200, body: body('v2', 'two') });
  });

  it('a rollback drops no request and serves the old release again', async () => {
    const r = await underLoad(t, app, port, 'rollback to v1', async () => {
      const res = await t.api('POST', `/apps/${app}/rollback`, { release: 1 });
      expect(res.status, res.text).toBe(200);
    });
    expectSwitched(r, body('v2', 'two'), body('v1'));
    expect(await httpGet(port)).toMatchObject({ status: 200, body: body('v1') });
  });

  it('the drain wait is bounded: a request longer than MINPAAS_DRAIN_TIMEOUT (10 s here) does not hold a push', async () => {
    // A 25 s request in flight on the current container, then a push.
    const hanging = request(port, '/hang', false);
    await eventually(async () => {
      if (!((await backendCounters(t.dataDir, app)).scur! > 0)) throw new Error('no session yet');
    });
    await repo.commit(zdApp('v3'), 'v3');
    const started = performance.now();
    const res = await repo.push(t.remote(app));
    const pushMs = performance.now() - started;
    expect(res.code, res.output).toBe(0);
    expect(res.output).toMatch(/old release still busy after \d+ ms, stopping it anyway/);
    expect(await httpGet(port)).toMatchObject({ status: 200, body: body('v3') });
    // The old container is stopped once the bound is reached: the hanging request is cut, not finished.
    const hang = await hanging;
    console.log(`[zero-downtime] bounded drain: push took ${(pushMs / 1000).toFixed(1)} s; the 25 s request ended with ${JSON.stringify(hang)}`);
    expect(hang.body).not.toBe('hang done\n');
  });
});
