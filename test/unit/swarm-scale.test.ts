import { describe, expect, it } from 'vitest';
import { DeployLog } from '../../src/deploy/deploy-log.js';
import { rolloutTimeoutMs } from '../../src/deploy/run-swarm-release.js';
import { scaleServices } from '../../src/deploy/scale-services.js';
import type { ScalePlan } from '../../src/deploy/scale.js';
import { edgeName } from '../../src/docker/index.js';
import type { Formation } from '../../src/domain/processes.js';
import { captureLogger, FakeRouter, FakeRunner, FakeStore } from './fakes/ports.js';
import { FakeServiceRunner } from './fakes/swarm.js';

/** `ps:scale` of a Swarm app over in-memory fakes: what is scaled, created, and scaled back. */

const HEALTH_MS = 1000;
const EDGE = edgeName('shop', 3000);
const EDGE_AT = { host: '10.9.0.2', port: 40001 };
const timeout = (replicas: number): number => rolloutTimeoutMs(HEALTH_MS, replicas);

function setup(changes: Formation, stored: Formation = {}) {
  const swarm = new FakeServiceRunner();
  const runner = new FakeRunner();
  const router = new FakeRouter();
  const store = new FakeStore();
  const { log, lines } = captureLogger();
  swarm.registry = '127.0.0.1:5000';
  swarm.add('shop', 'web', { release: 4, replicas: stored.web ?? 1, image: '127.0.0.1:5000/minpaas/shop:v4', command: null });
  swarm.add('shop', 'worker', { release: 4, replicas: stored.worker ?? 1, image: '127.0.0.1:5000/minpaas/shop:v4', command: 'node worker.js' });
  const app = { ...store.addApp('shop', 10002, { release: 4, placement: { container: EDGE, address: EDGE_AT } }), scheduler: 'swarm' as const };
  store.apps.set('shop', app);
  store.formations.set('shop', stored);
  const deployId = store.startDeploy();
  const plan: ScalePlan = {
    app,
    release: {
      app: 'shop',
      number: 4,
      imageTag: 'minpaas/shop:v4',
      imageId: 'sha256:four',
      env: { A: '1' },
      commit: null,
      kind: 'build',
      description: 'Deploy',
      processTypes: { web: 'npm start', worker: 'node worker.js', clock: 'node clock.js', release: 'npm run migrate' },
      listenPort: 3000,
      createdAt: new Date(0).toISOString(),
    },
    appPort: 3000,
    resources: { memoryBytes: null, cpus: 0.5 },
    changes,
    deployId,
  };
  const out = new DeployLog();
  const ports = { runner, router, store, log, swarm, healthTimeoutMs: HEALTH_MS, workerStartupSeconds: 3, releaseTimeoutMs: 5000 };
  const run = () => scaleServices(ports, plan, out);
  return { swarm, runner, router, store, out, lines, plan, deployId, run };
}

describe('scaleServices', () => {
  it('scales an existing service to its new count and commits the formation', async () => {
    const t = setup({ web: 3 });
    await t.run();
    expect(t.swarm.calls).toEqual(['assertReady', `scale shop-web v4 x3 ${timeout(3)}ms`]);
    expect(t.swarm.replicas()).toEqual({ 'shop-web': 3, 'shop-worker': 1 });
    expect(t.store.formations.get('shop')).toEqual({ web: 3 });
    expect(t.store.deploys.get(t.deployId)).toEqual({ status: 'succeeded', release: 4 });
    // The route and the app's processes (the edge) do not move.
    expect(t.store.listProcesses('shop')).toEqual([{ app: 'shop', type: 'web', replica: 1, container: EDGE, address: EDGE_AT }]);
    expect(t.router.calls).toEqual([]);
    expect(t.out.text()).toContain('shop-web: 3 task(s) running');
  });

  it('scales several types, down as well as up', async () => {
    const t = setup({ web: 1, worker: 0 }, { web: 2, worker: 2 });
    await t.run();
    expect(t.swarm.calls).toEqual(['assertReady', `scale shop-web v4 x1 ${timeout(1)}ms`, `scale shop-worker v4 x0 ${timeout(0)}ms`]);
    expect(t.swarm.replicas()).toEqual({ 'shop-web': 1, 'shop-worker': 0 });
    expect(t.store.formations.get('shop')).toEqual({ web: 1, worker: 0 });
  });

  it('creates the service of a type that has none, with the published image and its command', async () => {
    const t = setup({ clock: 2 });
    await t.run();
    expect(t.swarm.calls).toEqual(['assertReady', 'publish sha256:four', `deploy shop-clock v4 x2 ${timeout(2)}ms`]);
    expect(t.swarm.requests).toEqual([
      { app: 'shop', release: 4, type: 'clock', replicas: 2, command: 'node clock.js', image: '127.0.0.1:5000/minpaas/shop:v4', env: { A: '1' }, appPort: null, resources: { memoryBytes: null, cpus: 0.5 } },
    ]);
    expect(t.swarm.replicas()).toEqual({ 'shop-web': 1, 'shop-worker': 1, 'shop-clock': 2 });
    expect(t.store.formations.get('shop')).toEqual({ clock: 2 });
  });

  it('a web service created by a scale runs the image CMD and gets the app port', async () => {
    const t = setup({ web: 2 });
    t.swarm.services.delete('shop-web');
    await t.run();
    expect(t.swarm.requests[0]).toMatchObject({ type: 'web', command: null, appPort: 3000, replicas: 2 });
  });

  it('a failure scales back what it changed, to the stored counts, and commits nothing', async () => {
    const t = setup({ web: 3, worker: 2 }, { web: 2 });
    t.swarm.failingTypes.add('worker');
    await expect(t.run()).rejects.toMatchObject({ code: 'HEALTH_CHECK_FAILED' });
    expect(t.swarm.calls).toEqual(['assertReady', `scale shop-web v4 x3 ${timeout(3)}ms`, `scale shop-worker v4 x2 ${timeout(2)}ms`, `scale shop-web v4 x2 ${timeout(3)}ms`]);
    expect(t.swarm.replicas()).toEqual({ 'shop-web': 2, 'shop-worker': 1 });
    expect(t.store.formations.get('shop')).toEqual({ web: 2 });
    expect(t.store.deploys.get(t.deployId)?.status).toBe('running');
  });

  it('a type without a stored count is scaled back to 1 (its default)', async () => {
    const t = setup({ web: 4, worker: 3 });
    t.swarm.failingTypes.add('worker');
    await expect(t.run()).rejects.toThrow();
    expect(t.swarm.calls.at(-1)).toBe(`scale shop-web v4 x1 ${timeout(4)}ms`);
    expect(t.swarm.replicas()['shop-web']).toBe(1);
  });

  it('a failure after creating a service removes it again', async () => {
    const t = setup({ clock: 1, worker: 2 });
    t.swarm.failingTypes.add('worker');
    await expect(t.run()).rejects.toMatchObject({ code: 'HEALTH_CHECK_FAILED' });
    expect(t.swarm.undone).toEqual([{ app: 'shop', type: 'clock', created: true }]);
    expect(t.swarm.services.has('shop-clock')).toBe(false);
    expect(t.swarm.replicas()).toEqual({ 'shop-web': 1, 'shop-worker': 1 });
  });

  it('a commit that fails scales back too', async () => {
    const t = setup({ web: 2 });
    t.store.failCommit = true;
    await expect(t.run()).rejects.toThrow(/injected commit failure/);
    expect(t.swarm.calls.at(-1)).toBe(`scale shop-web v4 x1 ${timeout(2)}ms`);
    expect(t.swarm.replicas()['shop-web']).toBe(1);
  });

  it('no swarm (SWARM_UNAVAILABLE): nothing is scaled', async () => {
    const t = setup({ web: 3 });
    t.swarm.unavailable = true;
    await expect(t.run()).rejects.toMatchObject({ code: 'SWARM_UNAVAILABLE' });
    expect(t.swarm.calls).toEqual(['assertReady']);
    expect(t.swarm.replicas()).toEqual({ 'shop-web': 1, 'shop-worker': 1 });
    expect(t.store.formations.get('shop')).toEqual({});
  });
});
