import os from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { networkName } from '../../src/docker/index.js';
import { nodeApp } from '../fixtures/apps.js';
import { AppRepo, run } from '../helpers/git.js';
import { startTestServer, uniqueName, type TestServer } from '../helpers/server.js';

/**
 * Network isolation, seen from inside an app's container: it reaches its own address, but
 * not another app's container and not the control plane on any host address (the
 * control plane listens on 0.0.0.0 here, as by default). The host reaches every container.
 */

let t: TestServer;
const repos: AppRepo[] = [];
const appA = uniqueName('iso-a');
const appB = uniqueName('iso-b');

/** Run in app A's container with its own node: one HTTP GET per target, each answer's status or error code. */
const PROBE = `
const http = require('http');
const targets = JSON.parse(process.argv[1]);
Promise.all(targets.map(([host, port]) => new Promise((done) => {
  const req = http.get({ host, port, path: '/healthz', timeout: 3000, agent: false }, (res) => { res.resume(); done(String(res.statusCode)); });
  req.on('timeout', () => { req.destroy(); done('timeout'); });
  req.on('error', (err) => done(err.code || err.message));
}))).then((results) => console.log(JSON.stringify(results)));
`;

async function docker(...args: string[]): Promise<string> {
  const r = await run('docker', args, { timeoutMs: 60_000 });
  if (r.code !== 0) throw new Error(`docker ${args.join(' ')}: ${r.output}`);
  return r.stdout.trim();
}

async function probeFrom(container: string, targets: Array<[string, number]>): Promise<string[]> {
  return JSON.parse(await docker('exec', container, 'node', '-e', PROBE, JSON.stringify(targets))) as string[];
}

async function gatewayOf(app: string): Promise<string> {
  return docker('network', 'inspect', '-f', '{{(index .IPAM.Config 0).Gateway}}', networkName(app));
}

/** The host's own IPv4 addresses other than loopback (eth0, docker0, …). */
function hostAddresses(): string[] {
  return Object.values(os.networkInterfaces())
    .flat()
    .filter((i): i is os.NetworkInterfaceInfo => !!i && i.family === 'IPv4' && !i.internal)
    .map((i) => i.address);
}

function hostGet(host: string, port: number, path = '/healthz'): Promise<number | string> {
  return fetch(`http://${host}:${port}${path}`, { signal: AbortSignal.timeout(3000) }).then(
    (r) => r.status,
    (err: Error) => err.name,
  );
}

beforeAll(async () => {
  t = await startTestServer({ MINPAAS_HOST: '0.0.0.0' });
  for (const app of [appA, appB]) {
    const repo = await AppRepo.create(nodeApp(`hello ${app}`));
    repos.push(repo);
    const push = await repo.push(t.remote(app));
    if (push.code !== 0) throw new Error(push.output);
  }
});

afterAll(async () => {
  await t?.cleanup();
  for (const repo of repos) await repo.remove();
});

describe('network isolation of app containers', () => {
  it('each app runs on its own network and publishes no host port; the host reaches it at its address', async () => {
    for (const app of [appA, appB]) {
      const row = t.server.store.getApp(app)!;
      const ports = await docker('inspect', '-f', '{{json .NetworkSettings.Ports}} {{json .HostConfig.PortBindings}} {{.HostConfig.NetworkMode}}', row.container!);
      expect(ports).toBe(`{"3000/tcp":null} null ${networkName(app)}`);
      expect(await hostGet(row.address!.host, row.address!.port, '/')).toBe(200);
    }
  });

  it('from inside app A: its own address answers, app B’s container and the control plane do not', async () => {
    const a = t.server.store.getApp(appA)!;
    const b = t.server.store.getApp(appB)!;
    const control = t.server.port;
    const gatewayA = await gatewayOf(appA);
    const gatewayB = await gatewayOf(appB);
    // Controls: from the host, B's container and the control plane on A's gateway answer,
    // so a refusal from inside A is the isolation at work, not a dead target.
    expect(await hostGet(b.address!.host, b.address!.port, '/')).toBe(200);
    expect(await hostGet(gatewayA, control)).toBe(200);

    const hostIps = [...new Set([gatewayA, gatewayB, ...hostAddresses()])];
    const targets: Array<[string, number]> = [
      [a.address!.host, a.address!.port],
      [b.address!.host, b.address!.port],
      ...hostIps.map((ip): [string, number] => [ip, control]),
    ];
    const results = await probeFrom(a.container!, targets);
    const seen = Object.fromEntries(targets.map(([h, p], i) => [`${h}:${p}`, results[i]]));
    console.log('from inside app A:', JSON.stringify(seen));
    expect(results[0]).toBe('200');
    expect(results[1]).not.toMatch(/^\d+$/);
    for (const r of results.slice(2)) expect(r).not.toMatch(/^\d+$/);
  });

  it('deleting an app removes its network', async () => {
    expect(await docker('network', 'ls', '-q', '--filter', `name=^${networkName(appB)}$`)).not.toBe('');
    expect((await t.api('DELETE', `/apps/${appB}`)).status).toBe(200);
    expect(await docker('network', 'ls', '-q', '--filter', `name=^${networkName(appB)}$`)).toBe('');
  });

  it('a first deploy that fails its health check keeps the app (to be fixed or deleted); deleting it leaves no network behind', async () => {
    const app = uniqueName('iso-crash');
    const repo = await AppRepo.create(nodeApp('crash', { 'server.js': 'process.exit(4);\n' }));
    repos.push(repo);
    const push = await repo.push(t.remote(app));
    expect(push.code).not.toBe(0);
    expect(push.output).toContain('health check failed');
    expect((await t.api('GET', `/apps/${app}`)).json).toMatchObject({ status: 'failed', release: null });
    expect((await t.api('DELETE', `/apps/${app}`)).status).toBe(200);
    expect(await docker('network', 'ls', '-q', '--filter', `name=^${networkName(app)}$`)).toBe('');
  });
});
