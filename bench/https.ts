/**
 * HTTPS benchmark: requests/s of the same app through MinPaas's router, interleaved in one
 * run, keep-alive (autocannon, 50 connections):
 *   http    http://127.0.0.1:HTTP_PORT with Host: bench.apps.test (the shared HTTP frontend)
 *   https   https://…:HTTPS_PORT, SNI bench.apps.test, certificate loaded over the runtime API
 * The app is a tiny node:http server in its own process (not a container: this measures
 * the router's TLS cost, not Docker's). Prints each round and the medians.
 *
 *   npx tsx bench/https.ts [rounds] [seconds]
 */
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import autocannonModule from 'autocannon';
import { log } from '../src/log.js';
import { HaproxyRouter } from '../src/router/haproxy-router.js';
import type { Autocannon, AutocannonResult } from '../test/helpers/autocannon.js';
import { freeLoopbackPort } from '../test/helpers/http.js';

const autocannon = autocannonModule as unknown as Autocannon;
const run = promisify(execFile);
const ROUNDS = Number(process.argv[2] ?? 3);
const SECONDS = Number(process.argv[3] ?? 8);
const HOST = 'bench.apps.test';
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function load(url: string, extra: object): Promise<AutocannonResult> {
  return new Promise((resolve, reject) => {
    autocannon({ url, connections: 50, duration: SECONDS, headers: { host: HOST }, ...extra }, (err, result) => (err ? reject(err) : resolve(result)));
  });
}

async function main(): Promise<void> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'minpaas-bench-https-'));
  const appPort = await freeLoopbackPort();
  const app = spawn(process.execPath, ['-e', `require('http').createServer((q, s) => s.end('hello world\\n')).listen(${appPort}, '127.0.0.1')`], { stdio: 'inherit' });
  const [httpPort, httpsPort, routePort] = [await freeLoopbackPort(), await freeLoopbackPort(), await freeLoopbackPort()];
  const router = new HaproxyRouter({
    dataDir: dir,
    appBind: '127.0.0.1',
    drainTimeoutMs: 5000,
    log: log.child({ component: 'router' }),
    hostRouting: { httpPort, httpsPort, controlSocket: path.join(dir, 'control.sock') },
  });
  try {
    await new Promise((r) => setTimeout(r, 300));
    await router.ensureRunning([{ app: 'bench', port: routePort, targets: [{ host: '127.0.0.1', port: appPort }] }]);
    await router.setHosts([{ host: HOST, app: 'bench', redirect: false }]);
    await run('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'key.pem', '-out', 'cert.pem', '-days', '2', '-subj', `/CN=${HOST}`, '-addext', `subjectAltName=DNS:${HOST}`], { cwd: dir });
    const pem = (await fs.readFile(path.join(dir, 'cert.pem'), 'utf8')) + (await fs.readFile(path.join(dir, 'key.pem'), 'utf8'));
    await router.installCertificate(HOST, pem);
    const figures: Record<'http' | 'https', number[]> = { http: [], https: [] };
    for (let round = 1; round <= ROUNDS; round++) {
      for (const kind of ['http', 'https'] as const) {
        const result =
          kind === 'http'
            ? await load(`http://127.0.0.1:${httpPort}/`, {})
            : await load(`https://127.0.0.1:${httpsPort}/`, { servername: HOST });
        const rps = result.requests.total / SECONDS;
        figures[kind].push(rps);
        console.log(`round ${round} ${kind.padEnd(5)} ${rps.toFixed(0).padStart(7)} req/s  p99 ${result.latency.p99} ms  errors ${result.errors} non2xx ${result.non2xx}`);
      }
    }
    const http = median(figures.http);
    const https = median(figures.https);
    console.log(`median: http ${http.toFixed(0)} req/s, https ${https.toFixed(0)} req/s, https/http = ${(https / http).toFixed(2)}`);
  } finally {
    await router.stopProcess().catch(() => undefined);
    app.kill();
    await fs.rm(dir, { recursive: true, force: true });
  }
}

await main();
