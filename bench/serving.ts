/**
 * Serving benchmark: requests/s of the same tiny Node app, interleaved in one run,
 *   router     through MinPaas's router (HAProxy → the container's own address)
 *   direct     straight to the container's address
 *   host       the same server.js run as a process on the host
 *   published  straight to a host port Docker publishes for a second container of the same
 *              image (127.0.0.1:P → docker-proxy → app)
 *   router→published  HAProxy in front of that published port: the serving path before
 * Uses wrk (-t2 -c50) when installed, else autocannon. Prints each round and the medians;
 * target: router ≥ 0.8 × direct.
 *
 *   npx tsx bench/serving.ts [rounds] [seconds]
 */
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import autocannon from 'autocannon';
import { log } from '../src/log.js';
import { HaproxyRouter } from '../src/router/haproxy-router.js';
import { nodeApp } from '../test/fixtures/apps.js';
import { AppRepo } from '../test/helpers/git.js';
import { freeLoopbackPort, httpGet } from '../test/helpers/http.js';
import { startTestServer, uniqueName } from '../test/helpers/server.js';

const run = promisify(execFile);
const ROUNDS = Number(process.argv[2] ?? 3);
const SECONDS = Number(process.argv[3] ?? 5);
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function hasWrk(): Promise<boolean> {
  return run('wrk', ['--version']).then(
    () => true,
    (err: { stdout?: string }) => String(err.stdout ?? '').includes('wrk'),
  );
}

/** Requests per second against `url` for SECONDS, 50 keep-alive connections. */
async function measure(url: string, wrk: boolean): Promise<number> {
  if (wrk) {
    const { stdout } = await run('wrk', ['-t2', '-c50', `-d${SECONDS}s`, url]);
    const m = /Requests\/sec:\s+([\d.]+)/.exec(stdout);
    if (!m) throw new Error(`unexpected wrk output: ${stdout}`);
    return Number(m[1]);
  }
  const runAc = autocannon as unknown as (o: object) => Promise<{ requests: { average: number } }>;
  return (await runAc({ url, connections: 50, duration: SECONDS })).requests.average;
}

async function waitFor200(host: string, port: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const ok = await fetch(`http://${host}:${port}/`, { signal: AbortSignal.timeout(1000) }).then((r) => r.ok, () => false);
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${host}:${port} does not answer`);
}

async function main(): Promise<void> {
  const wrk = await hasWrk();
  const t = await startTestServer();
  const app = uniqueName('serve');
  const repo = await AppRepo.create(nodeApp('bench'));
  const hostDir = await fs.mkdtemp(path.join(os.tmpdir(), 'minpaas-serving-'));
  const routerDir = await fs.mkdtemp(path.join(os.tmpdir(), 'minpaas-serving-router-'));
  const oldRouter = new HaproxyRouter({ dataDir: routerDir, appBind: '127.0.0.1', drainTimeoutMs: 1000, log });
  let published: string | undefined;
  let hostServer: ReturnType<typeof spawn> | undefined;
  try {
    const push = await repo.push(t.remote(app));
    if (push.code !== 0) throw new Error(push.output);
    const row = t.server.store.getApp(app)!;
    const release = t.server.store.getRelease(app, row.release!)!;
    const direct = row.address!;

    // The same server.js on the host.
    for (const [name, text] of Object.entries(nodeApp('bench'))) await fs.writeFile(path.join(hostDir, name), text);
    const hostPort = await freeLoopbackPort();
    hostServer = spawn(process.execPath, ['server.js'], { cwd: hostDir, env: { ...process.env, PORT: String(hostPort) }, stdio: 'ignore' });
    await waitFor200('127.0.0.1', hostPort);

    // A second container of the same image, published through docker-proxy (the old path).
    published = (
      await run('docker', ['run', '-d', '--init', '--label', 'minpaas-bench=serving', '-e', 'PORT=3000', '-p', '127.0.0.1::3000', release.imageId])
    ).stdout.trim();
    const publishedPort = Number((await run('docker', ['port', published, '3000/tcp'])).stdout.trim().split('\n')[0]!.split(':').pop());
    await waitFor200('127.0.0.1', publishedPort);
    const oldRoutePort = await freeLoopbackPort();
    await oldRouter.ensureRunning([{ app: 'old', port: oldRoutePort, targets: [{ host: '127.0.0.1', port: publishedPort }] }]);
    if ((await httpGet(oldRoutePort))?.status !== 200) throw new Error('the router in front of the published port does not answer');

    const modes: Array<[string, string]> = [
      ['router', `http://127.0.0.1:${row.port}/`],
      ['direct', `http://${direct.host}:${direct.port}/`],
      ['host', `http://127.0.0.1:${hostPort}/`],
      ['published', `http://127.0.0.1:${publishedPort}/`],
      ['router→published', `http://127.0.0.1:${oldRoutePort}/`],
    ];
    console.log(`tool: ${wrk ? 'wrk -t2 -c50' : 'autocannon -c50'}, ${SECONDS} s per measurement, ${ROUNDS} rounds interleaved`);
    const results = new Map<string, number[]>(modes.map(([name]) => [name, []]));
    for (let round = 1; round <= ROUNDS; round++) {
      const line: string[] = [];
      for (const [name, url] of modes) {
        const rps = await measure(url, wrk);
        results.get(name)!.push(rps);
        line.push(`${name} ${Math.round(rps)}`);
      }
      console.log(`round ${round}: ${line.join(', ')} req/s`);
    }
    const med = Object.fromEntries([...results].map(([name, xs]) => [name, median(xs)]));
    console.log(`medians (req/s): ${Object.entries(med).map(([k, v]) => `${k} ${Math.round(v)}`).join(', ')}`);
    console.log(`router / direct = ${(med.router! / med.direct!).toFixed(2)} (target ≥ 0.8); before: router→published / direct = ${(med['router→published']! / med.direct!).toFixed(2)}`);
  } finally {
    hostServer?.kill();
    if (published) await run('docker', ['rm', '-f', published]).catch(() => undefined);
    await oldRouter.stopProcess().catch(() => undefined);
    await t.cleanup();
    await repo.remove();
    await fs.rm(hostDir, { recursive: true, force: true });
    await fs.rm(routerDir, { recursive: true, force: true });
  }
}

await main();
