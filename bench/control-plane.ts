/**
 * Control-plane benchmark: seeds APPS apps (default 1,000) straight into a store in a temp
 * data dir (each with a release, a few config vars, a deploy, and a placement naming a
 * container that does not exist: no Docker containers are made), then starts the built
 * server as `minpaas server` starts it (dist/cli.js with the node flags and environment of
 * src/cli/server-launch.ts, so run `npm run build` first) on it and prints:
 *   - start-up: spawn → /healthz answers (target ≤ 3 s)
 *   - GET /apps over 1,000 apps, sequential requests: p50 / p99 / max (targets 10 / 50 ms)
 *   - GET /apps?limit=50: p50 / p99
 *   - GET /metrics: p50 / max of 10 scrapes
 *   - RSS of the server process (target ≤ 100 MB idle): 2 s after start-up, 2 s after the
 *     requests, and once it has been idle for IDLE_SECONDS (V8 gives back the heap a burst
 *     of requests grew about 8 s after the burst, when it finds the process idle)
 *
 *   npx tsx bench/control-plane.ts [apps] [requests]
 *   BENCH_UNTUNED=1: start plain `node dist/cli.js server` (no launch flags), for comparison
 *   BENCH_PLAINTEXT=1, BENCH_NODE_ARGS='…': see below
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { allocatePort, portInUse } from '../src/domain/ports.js';
import { PLAINTEXT } from '../src/secrets/cipher.js';
import { loadSecrets } from '../src/secrets/rotation.js';
import { Store } from '../src/store/store.js';
import { freeLoopbackPort } from '../test/helpers/http.js';
import { REPO_ROOT } from '../test/helpers/server-process.js';
import { SERVER_ENV, serverNodeArgs } from '../src/cli/server-launch.js';

const APPS = Number(process.argv[2] ?? 1000);
const REQUESTS = Number(process.argv[3] ?? 200);
const TOKEN = 'bench-token-0123456789';
const IDLE_SECONDS = 15;
const UNTUNED = process.env.BENCH_UNTUNED === '1';
/** Extra node flags for the server, e.g. BENCH_NODE_ARGS='--cpu-prof --cpu-prof-dir=/tmp/prof'. */
const nodeArgs = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/**
 * Config values are sealed with the data dir's key, as the server writes them (every start
 * but the first after an upgrade). BENCH_PLAINTEXT=1 seeds them in clear instead: the
 * server then seals all of them during its start-up (the one-time upgrade).
 */
async function seed(dataDir: string, prefix: string): Promise<void> {
  const cipher = process.env.BENCH_PLAINTEXT === '1' ? PLAINTEXT : loadSecrets(path.join(dataDir, 'secret.key')).cipher;
  const store = new Store(path.join(dataDir, 'minpaas.db'), cipher);
  try {
    for (let i = 0; i < APPS; i++) {
      const name = `${prefix}-${String(i).padStart(4, '0')}`;
      const port = await allocatePort(name, store.usedPorts(), (p) => portInUse('127.0.0.1', p));
      store.createApp({ name, runtime: 'node', repo: null, branch: null, port });
      store.setEnv(name, { GREETING: `hello ${i}`, NODE_ENV: 'production', DATABASE_URL: `postgres://db/${name}` });
      const deploy = store.startDeploy(name, 'push', 'c0ffee');
      store.commitRelease({
        release: { app: name, number: 1, imageTag: `minpaas/${name}:v1`, imageId: `sha256:${'0'.repeat(64)}`, env: store.getEnv(name), commit: 'c0ffee', kind: 'build', description: 'Deploy c0ffee', processTypes: { web: 'npm start' }, listenPort: null },
        // The container does not exist: the server finds it missing, as after a lost engine.
        processes: [{ type: 'web', replica: 1, container: `${name}-v1-bench`, address: { host: '172.30.0.2', port: 3000 } }],
        deployId: deploy.id,
        source: null,
      });
    }
  } finally {
    store.close();
  }
}

async function timedGet(url: string): Promise<number> {
  const started = performance.now();
  const res = await fetch(url, { headers: { authorization: `Bearer ${TOKEN}` } });
  await res.arrayBuffer();
  if (res.status !== 200) throw new Error(`GET ${url}: ${res.status}`);
  return performance.now() - started;
}

async function rssMb(pid: number): Promise<number> {
  const status = await fs.readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)![1]) / 1024;
}

/** CPU time (user + system) the process has used, in ms: a cost per request that other load on the machine barely moves. */
async function cpuMs(pid: number): Promise<number> {
  const stat = await fs.readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime and stime are fields 14 and 15 of the whole line (11 and 12 after the name), in ticks of 10 ms.
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

async function main(): Promise<void> {
  const temp = await fs.mkdtemp(path.join(os.tmpdir(), 'minpaas-bench-cp-'));
  const dataDir = path.join(temp, 'data');
  await fs.mkdir(dataDir);
  const prefix = `cp${Math.random().toString(36).slice(2, 6)}`;
  const seeded = performance.now();
  await seed(dataDir, prefix);
  console.log(`seeded ${APPS} apps (${process.env.BENCH_PLAINTEXT === '1' ? 'config in clear' : 'config sealed'}) in ${Math.round(performance.now() - seeded)} ms`);
  const port = await freeLoopbackPort();
  const out = openSync(path.join(temp, 'server.log'), 'a');
  const started = performance.now();
  const args = UNTUNED ? ['dist/cli.js', 'server'] : serverNodeArgs('dist/cli.js', 'server');
  console.log(`server: ${UNTUNED ? '' : `${Object.entries(SERVER_ENV).map(([k, v]) => `${k}=${v} `).join('')}`}node ${[...nodeArgs, ...args].join(' ')}`);
  const child = spawn(process.execPath, [...nodeArgs, ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...(UNTUNED ? {} : SERVER_ENV), MINPAAS_DATA_DIR: dataDir, MINPAAS_PORT: String(port), MINPAAS_HOST: '127.0.0.1', MINPAAS_TOKEN: TOKEN, MINPAAS_LOG_LEVEL: 'warn' },
    stdio: ['ignore', out, out],
  });
  closeSync(out);
  const base = `http://127.0.0.1:${port}`;
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`server exited; see ${temp}/server.log`);
      const ok = await fetch(`${base}/healthz`).then((r) => r.ok, () => false);
      if (ok) break;
      await sleep(10);
    }
    const startupMs = performance.now() - started;
    await sleep(2000);
    const rssAtStart = await rssMb(child.pid!);
    // Warm-up, then sequential requests (one client, as an operator or dashboard would).
    for (let i = 0; i < 5; i++) await timedGet(`${base}/apps`);
    const all: number[] = [];
    const cpuBefore = await cpuMs(child.pid!);
    for (let i = 0; i < REQUESTS; i++) all.push(await timedGet(`${base}/apps`));
    const cpuPerList = ((await cpuMs(child.pid!)) - cpuBefore) / REQUESTS;
    const page: number[] = [];
    for (let i = 0; i < REQUESTS; i++) page.push(await timedGet(`${base}/apps?limit=50`));
    const scrapes: number[] = [];
    for (let i = 0; i < 10; i++) scrapes.push(await timedGet(`${base}/metrics`));
    await sleep(2000);
    const rss = await rssMb(child.pid!);
    await sleep((IDLE_SECONDS - 2) * 1000);
    const rssIdle = await rssMb(child.pid!);
    const fmt = (n: number): string => n.toFixed(1);
    console.log(`start-up with ${APPS} apps: ${Math.round(startupMs)} ms (target <= 3000)`);
    console.log(`GET /apps (${APPS} apps, ${REQUESTS} sequential): p50 ${fmt(percentile(all, 50))} ms, p99 ${fmt(percentile(all, 99))} ms, max ${fmt(Math.max(...all))} ms (targets 10 / 50)`);
    console.log(`server CPU per GET /apps: ${fmt(cpuPerList)} ms (user + system; less moved by other load than the latencies)`);
    console.log(`GET /apps?limit=50: p50 ${fmt(percentile(page, 50))} ms, p99 ${fmt(percentile(page, 99))} ms`);
    console.log(`GET /metrics (${APPS} apps): p50 ${fmt(percentile(scrapes, 50))} ms, max ${fmt(Math.max(...scrapes))} ms`);
    console.log(`RSS: ${fmt(rssAtStart)} MB 2 s after start-up, ${fmt(rss)} MB 2 s after the requests, ${fmt(rssIdle)} MB after ${IDLE_SECONDS} s idle (target <= 100)`);
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    // The server leaves HAProxy running (apps keep serving); stop the bench's own.
    const pidFile = path.join(dataDir, 'router', 'haproxy.pid');
    const pid = Number((await fs.readFile(pidFile, 'utf8').catch(() => '')).trim());
    if (Number.isInteger(pid) && pid > 0) {
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        // already gone
      }
    }
    await sleep(500);
    await fs.rm(temp, { recursive: true, force: true });
  }
}

await main();
