/**
 * Zero-downtime benchmark: deploys a tiny Node app, then keeps CONNECTIONS keep-alive
 * connections (autocannon, in a child process so it does not share the control plane's
 * event loop) on its stable port while doing, in turn, 3 code pushes, 2 config changes
 * (PATCH /apps/APP/config) and 1 rollback (POST /apps/APP/rollback, to release 2: with the
 * default MINPAAS_KEEP_RELEASES=5, release 1's image is pruned by then). A baseline phase
 * without any deploy comes first, and another one last. Each phase prints requests, non-2xx, errors and
 * latencies; a slow (2 s) request starts every 200 ms during each operation and must
 * finish with 200. Target: 0 errors, 0 non-2xx.
 *
 *   MINPAAS_LOG_LEVEL=silent npx tsx bench/zero-downtime.ts [connections]
 *
 * Every phase ends by itself: the load has a duration cap, and is stopped 1 s after the
 * operation is over and the old container is gone. Only 127.0.0.1 is targeted.
 *
 * Then the same with web=3 (processes, issue 10): scale 1→3, a push, a config change, a
 * scale 3→1 and back 1→3, and a rollback, each under the same load: three replicas
 * behind the router round-robin, every change moving the whole group.
 */
import { fork, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import type { Autocannon, AutocannonClient } from '../test/helpers/autocannon.js';

const CHILD_FLAG = '--load-child';
const BASELINE_SECONDS = 10;
/** Longest any phase's load may run, whatever happens to the operation. */
const CAP_SECONDS = 120;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

// ---------------------------------------------------------------------------------------
// The load generator (child process)
// ---------------------------------------------------------------------------------------

interface LoadRequest {
  port: number;
  connections: number;
  seconds: number;
}

interface LoadReport {
  requests: number;
  durationS: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  latency: { p50: number; p99: number; max: number };
  /** Bodies in the order they were first seen, with counts and the order of their last answer. */
  bodies: { body: string; count: number; first: number; last: number }[];
  /** Connections the server side ended (none expected), and those it ended while a request was in flight (autocannon would silently retry them). */
  closedByPeer: number;
  closedWithRequestInFlight: number;
}


function runLoadChild(): void {
  process.once('message', (msg: LoadRequest) => {
    let seq = 0;
    let ready = false;
    const bodies = new Map<string, { count: number; first: number; last: number }>();
    let closedByPeer = 0;
    let closedWithRequestInFlight = 0;
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
              const s = ++seq;
              const entry = bodies.get(body);
              if (entry) {
                entry.count++;
                entry.last = s;
              } else bodies.set(body, { count: 1, first: s, last: s });
              if (!ready) {
                ready = true;
                process.send?.({ ready: true });
              }
            },
          },
        ],
        setupClient: (client: AutocannonClient) => {
          const connect = client._connect;
          client._connect = function (this: AutocannonClient) {
            connect.call(this);
            this.conn.prependListener('end', () => {
              if (this.destroyed) return;
              closedByPeer++;
              if (this.pipelinedRequests.size() > 0) closedWithRequestInFlight++;
            });
          };
        },
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
          bodies: [...bodies.entries()].map(([body, v]) => ({ body, ...v })),
          closedByPeer,
          closedWithRequestInFlight,
        };
        process.send?.({ report }, () => process.exit(0));
      },
    );
    process.on('message', (m: { stop?: boolean }) => {
      if (m.stop) instance.stop();
    });
    // The parent went away: stop now (the duration cap would stop it anyway).
    process.on('disconnect', () => instance.stop());
  });
}

interface Load {
  child: ChildProcess;
  ready: Promise<void>;
  done: Promise<LoadReport>;
  stop(): void;
}

function startLoad(port: number, connections: number, seconds: number): Load {
  const child = fork(fileURLToPath(import.meta.url), [CHILD_FLAG], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  let markReady!: () => void;
  const ready = new Promise<void>((resolve) => (markReady = resolve));
  const done = new Promise<LoadReport>((resolve, reject) => {
    child.on('message', (m: { ready?: boolean; report?: LoadReport }) => {
      if (m.ready) markReady();
      if (m.report) resolve(m.report);
    });
    child.on('close', (code) => reject(new Error(`load generator exited with code ${code} before reporting`)));
  });
  child.send({ port, connections, seconds } satisfies LoadRequest);
  return {
    child,
    ready,
    done,
    stop: () => {
      if (child.connected) child.send({ stop: true });
    },
  };
}

// ---------------------------------------------------------------------------------------
// The benchmark (parent)
// ---------------------------------------------------------------------------------------

interface SlowResult {
  ok: boolean;
  detail: string;
}

/** GET /slow on its own connection; never rejects. */
function slowRequest(port: number): Promise<SlowResult> {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/slow', agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ ok: res.statusCode === 200 && body === 'slow done\n', detail: `${res.statusCode} ${JSON.stringify(body)}` }));
      res.on('error', (err) => resolve({ ok: false, detail: `response error ${err.message}` }));
    });
    req.on('error', (err) => resolve({ ok: false, detail: `${(err as NodeJS.ErrnoException).code ?? ''} ${err.message}` }));
  });
}

/** Counters of the app's backend in `show stat` that would show trouble at the router. */

interface PhaseRow {
  name: string;
  opS: number | null;
  load: LoadReport;
  slow: SlowResult[];
  haproxy: Record<string, number>;
  /** null for the baseline; else whether answers went from `from` to `to` and nothing else. */
  switched: boolean | null;
}

async function main(): Promise<void> {
  // Imported here so the load child does not load the whole control plane.
  const { nodeApp } = await import('../test/fixtures/apps.js');
  const { AppRepo } = await import('../test/helpers/git.js');
  const { httpGet } = await import('../test/helpers/http.js');
  const { startTestServer, uniqueName } = await import('../test/helpers/server.js');
  const { backendCounters, troubleDeltas } = await import('../test/helpers/haproxy-stats.js');

  const connections = Number(process.argv[2] ?? 50);
  const t = await startTestServer({ MINPAAS_LOG_LEVEL: process.env.MINPAAS_LOG_LEVEL ?? 'silent' });
  const app = uniqueName('zdbench');
  const repo = await AppRepo.create(nodeApp('code v1'));
  const rows: PhaseRow[] = [];
  let current: Load | undefined;
  let failure: unknown;

  const backendStats = (): Promise<Record<string, number>> => backendCounters(t.dataDir, app);

  // Done once the app runs no more containers than its processes (retired ones are gone).
  const waitRetired = async (): Promise<void> => {
    const deadline = Date.now() + 60_000;
    while ((await t.docker.listOwnedContainerNames(app)).length > t.server.store.listProcesses(app).length) {
      if (Date.now() > deadline) throw new Error('the old container was not retired within 60 s');
      await sleep(100);
    }
  };

  /** One phase: load on; after 1 s the operation (slow requests every 200 ms meanwhile); old container gone; 1 s more; load off. */
  const phase = async (name: string, op: (() => Promise<void>) | null, from?: string, to?: string): Promise<void> => {
    const before = await backendStats();
    const load = startLoad(t.server.store.getApp(app)!.port, connections, op ? CAP_SECONDS : BASELINE_SECONDS);
    current = load;
    const port = t.server.store.getApp(app)!.port;
    const slow: Promise<SlowResult>[] = [];
    let opS: number | null = null;
    try {
      await Promise.race([load.ready, load.done.then(() => undefined)]);
      if (op) {
        await sleep(1000);
        slow.push(slowRequest(port));
        const pump = setInterval(() => slow.push(slowRequest(port)), 200);
        const started = performance.now();
        try {
          await op();
        } finally {
          clearInterval(pump);
        }
        opS = (performance.now() - started) / 1000;
        await waitRetired();
        await sleep(1000);
      }
    } finally {
      if (op) load.stop();
    }
    const report = await load.done;
    current = undefined;
    const slowResults = await Promise.all(slow);
    const after = await backendStats();
    const haproxy = troubleDeltas(before, after);
    let switched: boolean | null = null;
    if (from !== undefined && from === to) {
      // A scale: the answers stay the same.
      switched = report.bodies.length === 1 && report.bodies[0]!.body === from;
    } else if (from !== undefined && to !== undefined) {
      const a = report.bodies.find((b) => b.body === from);
      const b = report.bodies.find((x) => x.body === to);
      switched = report.bodies.length === 2 && a !== undefined && b !== undefined && a.first < b.first && b.last > a.last;
    }
    const row: PhaseRow = { name, opS, load: report, slow: slowResults, haproxy, switched };
    rows.push(row);
    printRow(row);
  };

  const body = (message: string, greeting = ''): string => `${message} port=3000 greeting=${greeting}\n`;
  const push = async (n: number): Promise<void> => {
    const res = await repo.push(t.remote(app));
    if (res.code !== 0) throw new Error(`push ${n} failed:\n${res.output}`);
  };
  const api = async (method: string, path: string, payload: unknown): Promise<void> => {
    const res = await t.api(method, path, payload);
    if (res.status !== 200) throw new Error(`${method} ${path} answered ${res.status}: ${res.text}`);
  };

  try {
    await push(1);
    const port = t.server.store.getApp(app)!.port;
    const first = await httpGet(port);
    if (first?.body !== body('code v1')) throw new Error(`the app does not serve: ${JSON.stringify(first)}`);
    console.log(`app ${app} on http://127.0.0.1:${port}; ${connections} connections; one slow (2 s) request every 200 ms during each operation\n`);
    printHeader();

    await phase('baseline (no deploy)', null);
    for (const n of [2, 3, 4]) {
      await repo.commit(nodeApp(`code v${n}`), `v${n}`);
      await phase(`push ${n - 1} (code v${n - 1} → v${n})`, () => push(n), body(`code v${n - 1}`), body(`code v${n}`));
    }
    await phase('config 1 (GREETING=one)', () => api('PATCH', `/apps/${app}/config`, { GREETING: 'one' }), body('code v4'), body('code v4', 'one'));
    await phase('config 2 (GREETING=two)', () => api('PATCH', `/apps/${app}/config`, { GREETING: 'two' }), body('code v4', 'one'), body('code v4', 'two'));
    // Release 2 (code v2, no GREETING): with the default MINPAAS_KEEP_RELEASES=5 the image of v1 is pruned by now.
    await phase('rollback to release v2', () => api('POST', `/apps/${app}/rollback`, { release: 2 }), body('code v4', 'two'), body('code v2'));
    // The same load with no deploy again: tells what the operations cost from what the (shared) machine did meanwhile.
    await phase('baseline after (no deploy)', null);

    // web=3: every operation moves a group of three replicas.
    const scale = (web: number) => () => api('PATCH', `/apps/${app}/formation`, { web });
    await phase('scale web 1→3', scale(3), body('code v2'), body('code v2'));
    await repo.commit(nodeApp('code v5'), 'v5');
    await phase('web=3 push (code v2 → v5)', () => push(5), body('code v2'), body('code v5'));
    const pushed = t.server.store.getApp(app)!.release!;
    await phase('web=3 config (GREETING=three)', () => api('PATCH', `/apps/${app}/config`, { GREETING: 'three' }), body('code v5'), body('code v5', 'three'));
    await phase('scale web 3→1', scale(1), body('code v5', 'three'), body('code v5', 'three'));
    await phase('scale web 1→3', scale(3), body('code v5', 'three'), body('code v5', 'three'));
    await phase(`web=3 rollback to v${pushed}`, () => api('POST', `/apps/${app}/rollback`, { release: pushed }), body('code v5', 'three'), body('code v5'));
  } catch (err) {
    failure = err;
  } finally {
    if (current) {
      current.stop();
      await current.done.catch(() => undefined);
    }
    await t.cleanup();
    await repo.remove();
  }

  printSummary(rows);
  if (failure !== undefined) {
    console.error('\nthe benchmark stopped early:', failure);
    process.exitCode = 1;
    return;
  }
  const bad = rows.some((r) => r.load.errors > 0 || r.load.non2xx > 0 || r.load.closedWithRequestInFlight > 0 || r.slow.some((s) => !s.ok) || r.switched === false);
  process.exitCode = bad ? 1 : 0;
}

const COLUMNS: [string, number][] = [
  ['phase', 30],
  ['op s', 6],
  ['load s', 7],
  ['requests', 9],
  ['req/s', 7],
  ['non-2xx', 8],
  ['errors', 7],
  ['p50 ms', 7],
  ['p99 ms', 7],
  ['max ms', 7],
  ['slow ok', 8],
  ['closed', 7],
  ['switched', 9],
];

function line(cells: string[]): string {
  return cells.map((c, i) => (i === 0 ? c.padEnd(COLUMNS[i]![1]) : c.padStart(COLUMNS[i]![1]))).join(' ');
}

function printHeader(): void {
  console.log(line(COLUMNS.map(([h]) => h)));
}

function printRow(r: PhaseRow): void {
  const l = r.load;
  console.log(
    line([
      r.name,
      r.opS === null ? '-' : r.opS.toFixed(1),
      l.durationS.toFixed(1),
      String(l.requests),
      String(Math.round(l.requests / l.durationS)),
      String(l.non2xx),
      l.timeouts ? `${l.errors}(${l.timeouts}t)` : String(l.errors),
      String(l.latency.p50),
      String(l.latency.p99),
      String(l.latency.max),
      r.opS === null ? '-' : `${r.slow.filter((s) => s.ok).length}/${r.slow.length}`,
      l.closedWithRequestInFlight ? `${l.closedByPeer}(${l.closedWithRequestInFlight}!)` : String(l.closedByPeer),
      r.switched === null ? '-' : r.switched ? 'yes' : 'NO',
    ]),
  );
  const bodies = l.bodies.map((b) => `${JSON.stringify(b.body.trim())}×${b.count}`).join(' → ');
  const deltas = Object.entries(r.haproxy).filter(([, v]) => v !== 0);
  console.log(`  answers: ${bodies}; haproxy backend counters: ${deltas.length ? deltas.map(([k, v]) => `${k}+${v}`).join(' ') : 'no econ/eresp/retries/5xx/aborts'}`);
  for (const s of r.slow.filter((x) => !x.ok)) console.log(`  slow request failed: ${s.detail}`);
}

function printSummary(rows: PhaseRow[]): void {
  const ops = rows.filter((r) => r.opS !== null);
  const sum = (f: (r: PhaseRow) => number): number => rows.reduce((acc, r) => acc + f(r), 0);
  const requests = sum((r) => r.load.requests);
  const errors = sum((r) => r.load.errors);
  const non2xx = sum((r) => r.load.non2xx);
  const slow = ops.reduce((acc, r) => acc + r.slow.length, 0);
  const slowOk = ops.reduce((acc, r) => acc + r.slow.filter((s) => s.ok).length, 0);
  const inFlight = sum((r) => r.load.closedWithRequestInFlight);
  console.log(
    `\ntotal: ${requests} requests over ${rows.length} phases (${ops.length} operations): ${errors} errors, ${non2xx} non-2xx, ` +
      `${inFlight} connections closed with a request in flight, slow requests ${slowOk}/${slow} completed with 200 "slow done"`,
  );
  const met = errors === 0 && non2xx === 0 && inFlight === 0 && slowOk === slow && ops.every((r) => r.switched === true);
  console.log(`target (0 errors, 0 non-2xx, every slow request done, every operation switched the answers): ${met ? 'met' : 'NOT MET'}`);
  console.log(
    'columns: op s = the push/PATCH/POST call; load s = how long the load ran; closed = connections the server side ended ' +
      '(with "!" those ended with a request in flight); switched = answers went from the old body to the new one, nothing else',
  );
}

if (process.argv.includes(CHILD_FLAG)) runLoadChild();
else await main();
