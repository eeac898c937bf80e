/**
 * Part 2 of the two-node bench: MinPaas itself on the swarm. A server (own process, temp
 * data dir) with MINPAAS_DEFAULT_SCHEDULER=swarm and MINPAAS_REGISTRY set; an app pushed,
 * scaled to web=4 (tasks on both nodes), served through the router (answers from both
 * nodes counted), a rolling deploy under load and a drain of the worker under load, both
 * with 0 failed requests; then the worker is activated and a last deploy puts tasks on it
 * again. The app is deleted through the API at the end, and a service it leaves is a failure.
 *
 * It needs the Swarm scheduler (issue 14): without it the server has no GET /nodes, and
 * this part stops with SchedulerMissing before doing anything else.
 */
import fs from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { AppRepo } from '../../test/helpers/git.js';
import { ServerProcess, type ApiResult } from '../../test/helpers/server-process.js';
import { CleanupStack, exec, sleep, Steps, waitFor } from './bench-exec.js';
import { startLoad, type LoadReport } from './load.js';
import { docker, type Engine } from './swarm-pair.js';

export class SchedulerMissing extends Error {}

export interface ProofOptions {
  steps: Steps;
  cleanup: CleanupStack;
  manager: Engine;
  registry: string;
  workerHostname: string;
  /** Node hostname → its engine, to read each task container's hostname where it runs. */
  engines: Map<string, Engine>;
}

const WEB = 4;
const CONNECTIONS = 20;
const LOAD_CAP_S = 240;
/** Kept after the run (the server's temp dir goes): what the server did, for a failure's details. */
const SERVER_LOG_COPY = path.join(os.tmpdir(), 'minpaas-bench-swarm-server.log');

/** Answers "MESSAGE host=CONTAINER_HOSTNAME"; /slow takes 2 s (a request in flight across a change). */
function hostnameApp(message: string): Record<string, string> {
  return {
    'package.json': JSON.stringify({ name: 'swarm-bench', version: '1.0.0', scripts: { start: 'node server.js' } }, null, 2),
    'server.js': `const http = require('http');
const host = require('os').hostname();
http.createServer((req, res) => {
  if (req.url === '/slow') return setTimeout(() => res.end('slow done\\n'), 2000);
  res.end(${JSON.stringify(message)} + ' host=' + host + '\\n');
}).listen(Number(process.env.PORT), () => console.log('booted ${message} on ' + process.env.PORT));
`,
  };
}

interface NodeApi {
  id: string;
  hostname: string;
  role: string;
  availability: string;
  state: string;
  tasks: unknown;
}

const taskCount = (tasks: unknown): number => (Array.isArray(tasks) ? tasks.length : typeof tasks === 'number' ? tasks : 0);

interface TaskRow {
  id: string;
  node: string;
  image: string;
  state: string;
  /** The hostname the task's container answers with (from its own engine). */
  hostname: string;
}

/** The running tasks of SERVICE (desired state running, current state Running), each with its node and container hostname. */
async function runningTasks(manager: Engine, service: string, engines: Map<string, Engine>): Promise<TaskRow[]> {
  const out = await docker(manager, ['service', 'ps', service, '--no-trunc', '--filter', 'desired-state=running', '--format', '{{.ID}}|{{.Node}}|{{.Image}}|{{.CurrentState}}']);
  const rows: TaskRow[] = [];
  for (const line of out.split('\n').filter(Boolean)) {
    const [id, node, image, state] = line.split('|') as [string, string, string, string];
    if (!state.startsWith('Running')) continue;
    const container = await docker(manager, ['inspect', '--type', 'task', id, '--format', '{{.Status.ContainerStatus.ContainerID}}']).catch(() => '');
    const engine = engines.get(node);
    const hostname = engine && container ? await docker(engine, ['inspect', '--type', 'container', container, '--format', '{{.Config.Hostname}}']).catch(() => container.slice(0, 12)) : container.slice(0, 12);
    rows.push({ id, node, image, state, hostname });
  }
  return rows;
}

function perNode(tasks: TaskRow[]): string {
  const counts = new Map<string, number>();
  for (const t of tasks) counts.set(t.node, (counts.get(t.node) ?? 0) + 1);
  return [...counts.entries()].map(([n, c]) => `${n}: ${c}`).join(', ');
}

function getOnce(port: number): Promise<{ status: number; body: string } | null> {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/', agent: false, timeout: 5000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', () => resolve(null));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(null));
  });
}

function loadLine(r: LoadReport): string {
  return `${r.requests} requests in ${r.durationS.toFixed(1)} s, ${r.non2xx} non-2xx, ${r.errors} errors (${r.timeouts} timeouts), p50 ${r.latency.p50} ms, p99 ${r.latency.p99} ms, max ${r.latency.max} ms; releases ${JSON.stringify(r.releases)}`;
}

function nodesOf(r: LoadReport, map: Map<string, string>): string {
  const byNode = new Map<string, number>();
  for (const [host, n] of Object.entries(r.hosts)) byNode.set(map.get(host) ?? `container ${host}`, (byNode.get(map.get(host) ?? `container ${host}`) ?? 0) + n);
  return [...byNode.entries()].map(([k, v]) => `${k}: ${v}`).join(', ');
}

export async function proveMinPaasOnSwarm(o: ProofOptions): Promise<void> {
  const { steps, cleanup, manager } = o;
  const server = await ServerProcess.create({ env: { MINPAAS_DEFAULT_SCHEDULER: 'swarm', MINPAAS_REGISTRY: o.registry, MINPAAS_LOG_LEVEL: 'info' } });
  const app = `swarmbench-${Math.random().toString(36).slice(2, 7)}`;
  const service = `${app}-web`;
  const serviceExists = async (): Promise<boolean> => (await exec('docker', ['-H', manager.host, 'service', 'inspect', service])).code === 0;
  const taskContainers = async (): Promise<string[]> => {
    const found: string[] = [];
    for (const [node, engine] of o.engines) {
      const ids = (await exec('docker', ['-H', engine.host, 'ps', '-aq', '--filter', `label=com.docker.swarm.service.name=${service}`])).stdout.split('\n').filter(Boolean);
      found.push(...ids.map((id) => `${id} on ${node}`));
    }
    return found;
  };
  // Pushed first, so it runs last: if the app's deletion leaves the service, it still goes (by its exact name).
  cleanup.push(`service ${service} (if left)`, async () => {
    if (!(await serviceExists())) return;
    await docker(manager, ['service', 'rm', service]);
    throw new Error(`${service} was still there after the server's clean-up; removed`);
  });
  cleanup.push('MinPaas server and its apps', async () => {
    // The app is deleted through the API first, so what DELETE leaves is a finding, not hidden by the helper's sweep.
    const problems: string[] = [];
    if (server.running && (await serviceExists())) {
      const del = await server.api('DELETE', `/apps/${app}`).catch((err: Error) => ({ status: 0, text: err.message }));
      if (del.status >= 300 || del.status === 0) problems.push(`DELETE /apps/${app} answered ${del.status}: ${del.text.trim()}`);
      else {
        const gone = await waitFor(`${service} gone`, 30_000, async () => ((await serviceExists()) ? undefined : true)).catch(() => false);
        if (!gone) problems.push(`DELETE /apps/${app} answered ${del.status} but ${service} is still there 30 s later`);
        // Task containers (old releases' too) go after the service, on every node.
        const started = performance.now();
        const left = await waitFor(`${service}'s task containers gone`, 30_000, async () => ((await taskContainers()).length ? undefined : true)).catch(() => false);
        if (!left) problems.push(`30 s after DELETE /apps/${app}, task containers of ${service} are still there: ${(await taskContainers()).join(', ')}`);
        else console.log(`  DELETE /apps/${app}: service and its task containers gone on every node in ${((performance.now() - started) / 1000).toFixed(1)} s after it answered`);
      }
    }
    await fs.copyFile(server.logFile, SERVER_LOG_COPY).catch(() => undefined);
    console.log(`  the MinPaas server's log: ${SERVER_LOG_COPY}`);
    await server.cleanup();
    if (problems.length) throw new Error(problems.join('; '));
  });
  /** One API call that must answer 200; otherwise the answer and, for a 500, the server's log lines of that request. */
  const api = async (method: string, pathname: string, body?: unknown): Promise<ApiResult> => {
    let res: ApiResult;
    try {
      res = await server.api(method, pathname, body);
    } catch (err) {
      throw new Error(`${method} ${pathname}: no answer (${err instanceof Error ? err.message : String(err)}); the server's last lines:\n${await server.logTail(15)}`);
    }
    if (res.status === 200) return res;
    let log = '';
    if (res.status >= 500) {
      const id = (res.json as { requestId?: string } | undefined)?.requestId;
      const tail = (await server.logTail(400)).split('\n');
      const mine = id ? tail.filter((l) => l.includes(id)) : [];
      log = `\nserver log ${mine.length ? `for request ${id}` : '(last lines)'}:\n${(mine.length ? mine : tail.slice(-20)).join('\n')}`;
    }
    throw new Error(`${method} ${pathname} answered ${res.status}: ${res.text.trim()}${log}`);
  };
  await steps.run('MinPaas server (scheduler swarm)', () => server.start(), (ms) => `${server.url}, /healthz after ${ms} ms`);

  const nodesRes = await server.api('GET', '/nodes');
  if (nodesRes.status === 404) throw new SchedulerMissing(`GET /nodes answered 404: this build has no Swarm scheduler yet (issue 14). Server log:\n${await server.logTail(10)}`);
  if (nodesRes.status !== 200) throw new Error(`GET /nodes answered ${nodesRes.status}: ${nodesRes.text}`);

  const repo = await AppRepo.create(hostnameApp('v1'));
  cleanup.push('app repo', () => repo.remove());

  await steps.run(`push ${app} (v1)`, async () => {
    const res = await repo.push(server.remote(app));
    if (res.code !== 0) throw new Error(`git push failed:\n${res.output.slice(-3000)}`);
    if (!(await serviceExists())) {
      throw new SchedulerMissing(`the push succeeded but there is no swarm service ${service}: MINPAAS_DEFAULT_SCHEDULER=swarm was not applied`);
    }
  });
  const port = ((await api('GET', `/apps/${app}`)).json as { port: number }).port;
  // Every task container seen so far (hostname → node), so answers of tasks that came and went are still placed.
  const known = new Map<string, string>();
  const tasksNow = async (): Promise<TaskRow[]> => {
    const t = await runningTasks(manager, service, o.engines);
    for (const x of t) known.set(x.hostname, x.node);
    return t;
  };

  const tasks = await steps.run(`scale web to ${WEB}`, async () => {
    await api('PATCH', `/apps/${app}/formation`, { web: WEB });
    return waitFor(`${WEB} running tasks of ${service} on both nodes`, 180_000, async () => {
      const t = await tasksNow();
      return t.length === WEB && new Set(t.map((x) => x.node)).size >= 2 ? t : undefined;
    }, 500);
  }, (t) => perNode(t));
  console.log(`       docker service ps ${service}:`);
  for (const t of tasks) console.log(`         ${t.id.slice(0, 12)}  ${t.node.padEnd(18)} ${t.state}`);

  const nodes = (await api('GET', '/nodes')).json as NodeApi[];
  console.log('       GET /nodes:');
  for (const n of nodes) console.log(`         ${n.id.slice(0, 12)}  ${n.hostname.padEnd(18)} ${n.role.padEnd(8)} ${n.availability.padEnd(7)} ${n.state.padEnd(6)} tasks ${taskCount(n.tasks)}`);
  const worker = nodes.find((n) => n.hostname === o.workerHostname);
  if (!worker) throw new Error(`GET /nodes does not list the worker ${o.workerHostname}: ${JSON.stringify(nodes)}`);

  await steps.run('served through the router from both nodes', async () => {
    const map = known;
    const counts = new Map<string, number>();
    let failed = 0;
    for (let i = 0; i < 200; i++) {
      const res = await getOnce(port);
      if (res?.status !== 200) {
        failed++;
        continue;
      }
      const host = /host=(\S+)/.exec(res.body)?.[1] ?? '?';
      const node = map.get(host) ?? `container ${host}`;
      counts.set(node, (counts.get(node) ?? 0) + 1);
    }
    const seen = [...counts.keys()];
    if (failed || !seen.includes(o.workerHostname) || seen.length < 2) {
      throw new Error(`200 requests to 127.0.0.1:${port}: ${failed} failed; answers by node ${JSON.stringify(Object.fromEntries(counts))}`);
    }
    return counts;
  }, (c) => `200 requests, new connection each: ${[...c.entries()].map(([k, v]) => `${k} ${v}`).join(', ')}`);

  /** Load on, `op`, wait until `settled`, 2 s more, load off; the load must see no failure. */
  const underLoad = async (name: string, op: () => Promise<void>, settled: () => Promise<TaskRow[] | undefined>): Promise<void> => {
    const load = startLoad(port, CONNECTIONS, LOAD_CAP_S);
    // When the operation fails, its error is the one reported; a load child dying then is not.
    load.done.catch(() => undefined);
    let after: TaskRow[] = [];
    let opMs = 0;
    // Tasks that start and go while the operation runs are placed on their node too.
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        await tasksNow().catch(() => undefined);
        await sleep(1000);
      }
    })();
    try {
      await Promise.race([load.ready, load.done.then(() => undefined)]);
      await sleep(1000);
      const started = performance.now();
      await op();
      after = await waitFor(`${name} to settle`, 180_000, settled, 500);
      opMs = performance.now() - started;
      await sleep(2000);
    } finally {
      load.stop();
      watching = false;
      await watcher;
    }
    const report = await load.done;
    const line = `${(opMs / 1000).toFixed(1)} s; ${loadLine(report)}; answers by node ${nodesOf(report, known)}; after: ${perNode(after)}`;
    if (report.errors || report.non2xx) throw new Error(`failed requests under load: ${line}`);
    console.log(`       ${line}`);
  };

  await repo.commit(hostnameApp('v2'), 'v2');
  await steps.run(`rolling deploy v1 → v2 under load (${CONNECTIONS} connections)`, () =>
    underLoad('rolling deploy', async () => {
      const res = await repo.push(server.remote(app));
      if (res.code !== 0) throw new Error(`git push v2 failed:\n${res.output.slice(-3000)}`);
    }, async () => {
      const t = await tasksNow();
      const state = await docker(manager, ['service', 'inspect', service, '--format', '{{if .UpdateStatus}}{{.UpdateStatus.State}}{{end}}']);
      const probe = await getOnce(port);
      return t.length === WEB && state !== 'updating' && probe?.body.startsWith('v2 ') ? t : undefined;
    }),
  );

  await steps.run(`drain ${o.workerHostname} under load`, () =>
    underLoad('drain', async () => {
      await api('POST', `/nodes/${worker.id}/drain`);
    }, async () => {
      const t = await tasksNow();
      return t.length === WEB && t.every((x) => x.node !== o.workerHostname) ? t : undefined;
    }),
  );
  await steps.run(`activate ${o.workerHostname}`, async () => {
    await api('POST', `/nodes/${worker.id}/activate`);
    const back = ((await api('GET', '/nodes')).json as NodeApi[]).find((n) => n.id === worker.id);
    if (back?.availability !== 'active') throw new Error(`after activate, GET /nodes shows ${JSON.stringify(back)}`);
  });

  // Swarm does not move tasks back by itself; the next deploy spreads them over both nodes again.
  await repo.commit(hostnameApp('v3'), 'v3');
  await steps.run(`deploy v2 → v3 after activate: back on both nodes`, () =>
    underLoad('deploy after activate', async () => {
      const res = await repo.push(server.remote(app));
      if (res.code !== 0) throw new Error(`git push v3 failed:\n${res.output.slice(-3000)}`);
    }, async () => {
      const t = await tasksNow();
      const probe = await getOnce(port);
      return t.length === WEB && t.some((x) => x.node === o.workerHostname) && probe?.body.startsWith('v3 ') ? t : undefined;
    }),
  );
}
