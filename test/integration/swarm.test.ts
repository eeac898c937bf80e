import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AutocannonResult } from '../helpers/autocannon.js';
import { AppRepo, run } from '../helpers/git.js';
import { underLoad as loadWhile } from '../helpers/load.js';
import { eventually, httpGet } from '../helpers/http.js';
import { startTestServer, TEST_TOKEN, uniqueName, type TestServer } from '../helpers/server.js';
import { servicesNamed, singleNodeSwarm, swarmState } from '../helpers/swarm.js';

/**
 * The Swarm scheduler on a real single-node swarm (made here with `docker swarm init`
 * when the engine is not in one, and left again afterwards): a push, a config change,
 * scaling 1 → 3 → 1, a rollback, a failing release and moves between schedulers, each
 * under load through the host's router and the app's edge, with no failed request.
 */

function swarmApp(version: string, opts: { crash?: boolean } = {}): Record<string, string> {
  const server = opts.crash
    ? `console.error('v3 cannot start: missing DATABASE_URL'); process.exit(1);\n`
    : `const http = require('http');
http.createServer((req, res) => res.end('${version} ' + process.env.DYNO + ' greeting=' + (process.env.GREETING || '') + '\\n')).listen(Number(process.env.PORT), () => console.log('web up ${version} ' + process.env.DYNO));
`;
  return {
    'package.json': JSON.stringify({ name: 'swarm-app', version: '1.0.0', scripts: { start: 'node server.js' } }),
    Procfile: 'web: node server.js\nworker: node worker.js\nrelease: node release.js\n',
    'server.js': server,
    'worker.js': `console.log('worker up ' + process.env.DYNO);\nsetInterval(() => console.log('heartbeat ' + process.env.DYNO), 1000);\n`,
    'release.js': `console.log('release-marker ${version} ' + process.env.DYNO);\n`,
  };
}

/** Load for the whole operation (a rolling update takes a while), a second more after it. */
const underLoad = (port: number, op: () => Promise<void>): Promise<AutocannonResult> => loadWhile(port, op, { settleMs: 1000, capSeconds: 240 });

function expectNoFailure(result: AutocannonResult): void {
  expect(result.requests.total).toBeGreaterThan(100);
  expect({ errors: result.errors, timeouts: result.timeouts, non2xx: result.non2xx }, JSON.stringify((result as unknown as { statusCodeStats?: unknown }).statusCodeStats)).toEqual({ errors: 0, timeouts: 0, non2xx: 0 });
}

async function bodies(port: number, count: number): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < count; i++) out.push((await httpGet(port, '/'))?.body.trim() ?? 'no answer');
  return out;
}

describe('the Swarm scheduler on a single-node swarm', () => {
  let t: TestServer;
  let repo: AppRepo;
  let swarm: Awaited<ReturnType<typeof singleNodeSwarm>> | undefined;
  const app = uniqueName('sw');
  let port: number;

  beforeAll(async () => {
    t = await startTestServer({ MINPAAS_RELEASE_TIMEOUT: '60', MINPAAS_WORKER_STARTUP: '2' });
    repo = await AppRepo.create(swarmApp('v1'));
  }, 120_000);

  afterAll(async () => {
    await t?.cleanup();
    await repo?.remove();
    // What the test made on the swarm is gone before the swarm the test made is left.
    expect(await servicesNamed(`${app}-`)).toEqual([]);
    await swarm?.restore();
  }, 180_000);

  it('refuses a swarm app clearly while the engine is not a swarm manager', async () => {
    if ((await swarmState()) === 'active') return; // a swarm was there already: nothing to refuse
    const refused = await t.api('POST', '/apps', { name: app, scheduler: 'swarm' });
    expect(refused.status).toBe(409);
    expect(refused.json.code).toBe('SWARM_UNAVAILABLE');
    expect(refused.json.error).toMatch(/docker swarm init/);
    expect((await t.api('GET', `/apps/${app}`)).status).toBe(404);
    expect((await t.api('GET', '/nodes')).json.code).toBe('SWARM_UNAVAILABLE');
  });

  it('a push to a swarm app runs the release command as a one-off task, then one service per process type', async () => {
    swarm = await singleNodeSwarm();
    expect((await t.api('POST', '/apps', { name: app, scheduler: 'swarm' })).status).toBe(201);
    expect((await t.api('PATCH', `/apps/${app}/config`, { GREETING: 'hello' })).status).toBe(200);
    const push = await repo.push(t.remote(app));
    expect(push.code, push.stderr).toBe(0);
    expect(push.stderr).toMatch(/release-marker v1 run\.[0-9a-f]+/);
    expect(push.stderr).toMatch(/Rolling out v1 on the swarm: web=1 worker=1/);
    const record = (await t.api('GET', `/apps/${app}`)).json;
    expect(record.scheduler).toBe('swarm');
    port = record.port as number;
    expect(await servicesNamed(`${app}-`)).toEqual([`${app}-web`, `${app}-worker`]);
    expect(await bodies(port, 3)).toEqual(Array(3).fill('v1 web.1 greeting=hello'));
    // No published port: the tasks are reached through the edge only.
    const ports = await run('docker', ['service', 'inspect', `${app}-web`, '--format', '{{json .Endpoint.Ports}}']);
    expect(ports.stdout.trim()).toBe('null');
  }, 300_000);

  it('a config change rolls the services with no failed request', async () => {
    const result = await underLoad(port, async () => {
      const changed = await t.api('PATCH', `/apps/${app}/config`, { GREETING: 'bonjour' });
      expect(changed.status, JSON.stringify(changed.json)).toBe(200);
    });
    expectNoFailure(result);
    expect(await bodies(port, 3)).toEqual(Array(3).fill('v1 web.1 greeting=bonjour'));
  }, 300_000);

  it('scales web 1 → 3 → 1 with no failed request; ps lists the tasks', async () => {
    const up = await underLoad(port, async () => {
      const scaled = await t.api('PATCH', `/apps/${app}/formation`, { web: 3 });
      expect(scaled.status, JSON.stringify(scaled.json)).toBe(200);
    });
    expectNoFailure(up);
    const ps = (await t.api('GET', `/apps/${app}/ps`)).json as { processes: Array<{ name: string; status: string; container: string }> };
    expect(ps.processes.filter((p) => p.name.startsWith('web.')).map((p) => [p.name, p.status, p.container])).toEqual([
      ['web.1', 'running', `${app}-web`],
      ['web.2', 'running', `${app}-web`],
      ['web.3', 'running', `${app}-web`],
    ]);
    const seen = new Set((await bodies(port, 30)).map((b) => b.split(' ')[1]));
    expect([...seen].sort()).toEqual(['web.1', 'web.2', 'web.3']);
    const down = await underLoad(port, async () => {
      expect((await t.api('PATCH', `/apps/${app}/formation`, { web: 1 })).status).toBe(200);
    });
    expectNoFailure(down);
    expect((await t.api('GET', `/apps/${app}/formation`)).json).toEqual({ web: 1, worker: 1 });
  }, 300_000);

  it('a second push is a rolling update with no failed request, and a rollback too', async () => {
    await repo.commit(swarmApp('v2'), 'v2');
    const pushed = await underLoad(port, async () => {
      const push = await repo.push(t.remote(app));
      expect(push.code, push.stderr).toBe(0);
    });
    expectNoFailure(pushed);
    expect(await bodies(port, 2)).toEqual(Array(2).fill('v2 web.1 greeting=bonjour'));
    const releases = (await t.api('GET', `/apps/${app}/releases`)).json as Array<{ number: number; description: string }>;
    const v1 = releases.find((r) => r.description.startsWith('Config change'))!.number;
    const rolledBack = await underLoad(port, async () => {
      expect((await t.api('POST', `/apps/${app}/rollback`, { release: v1 })).status).toBe(200);
    });
    expectNoFailure(rolledBack);
    expect(await bodies(port, 2)).toEqual(Array(2).fill('v1 web.1 greeting=bonjour'));
  }, 300_000);

  it('a release whose tasks fail is rolled back by Swarm and the push rejected, with no failed request', async () => {
    await repo.commit(swarmApp('v3', { crash: true }), 'v3 crashes');
    let push!: Awaited<ReturnType<AppRepo['push']>>;
    const result = await underLoad(port, async () => {
      push = await repo.push(t.remote(app));
    });
    expect(push.code).not.toBe(0);
    expect(push.stderr).toMatch(/health check failed: .*-web: the app exited \(code 1\)/);
    expect(push.stderr).toMatch(/v3 cannot start: missing DATABASE_URL/);
    expectNoFailure(result);
    expect(await bodies(port, 2)).toEqual(Array(2).fill('v1 web.1 greeting=bonjour'));
    // The service runs the serving release again (Swarm's own rollback).
    const labels = await run('docker', ['service', 'inspect', `${app}-web`, '--format', '{{index .Spec.TaskTemplate.ContainerSpec.Labels "minpaas.release"}}']);
    expect(Number(labels.stdout.trim())).toBe((await t.api('GET', `/apps/${app}`)).json.release);
    await repo.commit(swarmApp('v2'), 'back to v2');
  }, 400_000);

  it('logs merge every task with its replica; a one-off run is a one-off task', async () => {
    const logs = await fetch(`${t.url}/apps/${app}/logs?tail=50`, { headers: { Authorization: `Bearer ${TEST_TOKEN}` } });
    const text = await logs.text();
    expect(text).toMatch(/^\[web\.1\] web up v1 web\.1$/m);
    expect(text).toMatch(/^\[worker\.1\] heartbeat worker\.1$/m);
    const res = await fetch(`${t.url}/apps/${app}/run`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${TEST_TOKEN}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ command: ['node', '-e', 'console.log("one-off " + process.env.DYNO + " " + process.env.GREETING); process.exit(3)'] }),
    });
    const lines = (await res.text()).split('\n').filter(Boolean).map((l) => JSON.parse(l) as { stdout?: string; exitCode?: number });
    expect(lines.map((l) => l.stdout ?? '').join('')).toMatch(/^one-off run\.[0-9a-f]{8} bonjour$/m);
    expect(lines.at(-1)).toEqual({ exitCode: 3 });
    expect(await servicesNamed(`${app}-run-`)).toEqual([]);
  }, 300_000);

  it('logs -f follows every task as it writes', async () => {
    const controller = new AbortController();
    const res = await fetch(`${t.url}/apps/${app}/logs?follow=1&tail=0`, { headers: { Authorization: `Bearer ${TEST_TOKEN}` }, signal: controller.signal });
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    let text = '';
    const deadline = Date.now() + 20_000;
    while (!/^\[worker\.1\] heartbeat worker\.1$/m.test(text) && Date.now() < deadline) {
      const { value, done } = await reader.read();
      if (done) break;
      text += Buffer.from(value).toString('utf8');
    }
    controller.abort();
    expect(text).toMatch(/^\[worker\.1\] heartbeat worker\.1$/m);
  }, 60_000);

  it('resources:set changes the services\' limits by a rolling update, with no failed request', async () => {
    const result = await underLoad(port, async () => {
      const set = await t.api('PATCH', `/apps/${app}/resources`, { memory: '256m' });
      expect(set.status, JSON.stringify(set.json)).toBe(200);
    });
    expectNoFailure(result);
    const memory = await run('docker', ['service', 'inspect', `${app}-web`, '--format', '{{.Spec.TaskTemplate.Resources.Limits.MemoryBytes}}']);
    expect(memory.stdout.trim()).toBe(String(256 * 1024 * 1024));
  }, 300_000);

  it('moves between schedulers with no failed request', async () => {
    const toLocal = await underLoad(port, async () => {
      const moved = await t.api('PUT', `/apps/${app}/scheduler`, { scheduler: 'docker-local' });
      expect(moved.status, JSON.stringify(moved.json)).toBe(200);
      expect(moved.json.scheduler).toBe('docker-local');
    });
    expectNoFailure(toLocal);
    expect(await servicesNamed(`${app}-`)).toEqual([]);
    expect(await bodies(port, 2)).toEqual(Array(2).fill('v1 web.1 greeting=bonjour'));
    const toSwarm = await underLoad(port, async () => {
      expect((await t.api('PUT', `/apps/${app}/scheduler`, { scheduler: 'swarm' })).status).toBe(200);
    });
    expectNoFailure(toSwarm);
    expect(await servicesNamed(`${app}-`)).toEqual([`${app}-web`, `${app}-worker`]);
    // On this engine the app has its edge only (Swarm's task containers are named after the services).
    const containers = await run('docker', ['ps', '-a', '--filter', `name=^minpaas-${app}-`, '--format', '{{.Names}}']);
    expect(containers.stdout.trim().split('\n')).toEqual([expect.stringMatching(new RegExp(`^minpaas-${app}-edge-\\d+$`))]);
  }, 400_000);

  it('lists the swarm nodes; deleting the app removes its services and edge', async () => {
    const nodes = (await t.api('GET', '/nodes')).json as Array<{ role: string; availability: string; state: string; tasks: number }>;
    expect(nodes.length).toBeGreaterThanOrEqual(1);
    expect(nodes.some((n) => n.role === 'manager' && n.state === 'ready' && n.tasks >= 2)).toBe(true);
    expect((await t.api('DELETE', `/apps/${app}`)).status).toBe(200);
    expect(await servicesNamed(`${app}-`)).toEqual([]);
    const containers = await run('docker', ['ps', '-a', '--filter', `name=^minpaas-${app}-`, '--format', '{{.Names}}']);
    expect(containers.stdout.trim()).toBe('');
    // Swarm stops and removes the tasks' containers itself, one-off runs' included.
    await eventually(async () => expect((await run('docker', ['ps', '-a', '--filter', `name=^${app}-`, '--format', '{{.Names}}'])).stdout.trim()).toBe(''), 60_000, 1000);
  }, 120_000);
});
