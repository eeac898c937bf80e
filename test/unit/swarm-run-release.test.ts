import { describe, expect, it } from 'vitest';
import { DeployLog } from '../../src/deploy/deploy-log.js';
import { routeFor, type RunPlan } from '../../src/deploy/run-release.js';
import { rolloutTimeoutMs, runSwarmRelease } from '../../src/deploy/run-swarm-release.js';
import { edgeName } from '../../src/docker/index.js';
import type { AppRow } from '../../src/domain/types.js';
import type { ReleaseCommit } from '../../src/store/store.js';
import { captureLogger, FakeRouter, FakeRunner, FakeStore, InjectedFailure } from './fakes/ports.js';
import { FakeEdges, FakeServiceRunner } from './fakes/swarm.js';

/**
 * The Swarm Run stage over in-memory fakes: the order of its steps, what a failure at
 * each undoes, and what goes once the release is committed.
 */

class RecordingStore extends FakeStore {
  readonly commits: ReleaseCommit[] = [];
  /** Runs at the commit point, to check what has (not) happened yet. */
  onCommit: () => void = () => undefined;
  override commitRelease(commit: ReleaseCommit) {
    this.onCommit();
    const release = super.commitRelease(commit);
    this.commits.push(commit);
    return release;
  }
}

const EDGE = edgeName('shop', 3000);
const EDGE_AT = { host: '10.9.0.2', port: 40001 };
const LOCAL_AT = { host: '10.0.1.2', port: 3000 };
const HEALTH_MS = 1000;

type Previous = 'none' | 'swarm' | 'local';

function setup(previous: Previous = 'none') {
  const swarm = new FakeServiceRunner();
  const edges = new FakeEdges(EDGE_AT);
  const runner = new FakeRunner();
  const router = new FakeRouter();
  const store = new RecordingStore();
  const { log, lines } = captureLogger();
  let app: AppRow;
  if (previous === 'swarm') {
    swarm.add('shop', 'web', { release: 1, replicas: 1, image: 'minpaas/shop:v1', command: null });
    swarm.add('shop', 'worker', { release: 1, replicas: 1, image: 'minpaas/shop:v1', command: 'node worker.js' });
    runner.add(EDGE, 'shop', EDGE_AT);
    app = { ...store.addApp('shop', 10002, { release: 1, placement: { container: EDGE, address: EDGE_AT } }), scheduler: 'swarm' as const };
    store.apps.set('shop', app);
    router.live.set('shop', routeFor(app, [{ type: 'web', replica: 1, container: EDGE, address: EDGE_AT }]));
  } else if (previous === 'local') {
    runner.add('minpaas-shop-v1-web-1', 'shop', LOCAL_AT);
    runner.add('minpaas-shop-v1-worker-1', 'shop', null);
    app = store.addApp('shop', 10002, { release: 1, placement: { container: 'minpaas-shop-v1-web-1', address: LOCAL_AT } });
    router.live.set('shop', routeFor(app, [{ type: 'web', replica: 1, container: 'minpaas-shop-v1-web-1', address: LOCAL_AT }]));
  } else {
    app = store.addApp('shop', 10002);
  }
  router.persisted = new Map(router.live);
  const deployId = store.startDeploy();
  const out = new DeployLog();
  const plan: RunPlan = {
    app,
    release: {
      app: 'shop',
      number: 2,
      imageTag: 'minpaas/shop:v2',
      imageId: 'sha256:two',
      env: { A: '1' },
      commit: null,
      kind: 'build',
      description: 'Deploy',
      processTypes: { web: 'npm start', worker: 'node worker.js', release: 'npm run migrate' },
      listenPort: 3000,
    },
    appPort: 3000,
    resources: { memoryBytes: 128 * 1024 * 1024, cpus: null },
    deployId,
    source: null,
    runReleasePhase: true,
    scheduler: 'swarm',
  };
  const ports = { runner, router, store, log, swarm, edges, healthTimeoutMs: HEALTH_MS, workerStartupSeconds: 3, releaseTimeoutMs: 5000 };
  const run = () => runSwarmRelease(ports, plan, out);
  const before = { services: swarm.releases(), route: router.targets('shop'), app: store.apps.get('shop') };
  /** Nothing of the attempt is left: services, route and store as they were. */
  const expectUntouched = (): void => {
    expect(swarm.releases()).toEqual(before.services);
    expect(router.targets('shop')).toEqual(before.route);
    expect(store.apps.get('shop')).toEqual(before.app);
    expect(store.releases).toEqual([]);
    expect(store.deploys.get(deployId)?.status).toBe('running');
  };
  return { swarm, edges, runner, router, store, out, lines, plan, deployId, run, expectUntouched };
}

const ONE = rolloutTimeoutMs(HEALTH_MS, 1);

describe('rolloutTimeoutMs', () => {
  it('gives each replica (and one more) the health timeout and a margin', () => {
    expect(rolloutTimeoutMs(1000, 1)).toBe(32_000);
    expect(rolloutTimeoutMs(30_000, 3)).toBe(180_000);
    // A scale to zero still gets one health timeout.
    expect(rolloutTimeoutMs(1000, 0)).toBe(16_000);
  });
});

describe('the Swarm Run stage', () => {
  it('a first deploy: release command, then web before worker, the edge routed, committed as swarm', async () => {
    const t = setup('none');
    t.swarm.registry = '127.0.0.1:5000';
    t.swarm.oneOffOutput = ['migrated 3 tables'];
    const outcome = await t.run();

    expect(t.swarm.calls).toEqual([
      'assertReady',
      'publish sha256:two',
      'oneOff npm run migrate',
      `deploy shop-web v2 x1 ${ONE}ms`,
      `deploy shop-worker v2 x1 ${ONE}ms`,
    ]);
    // The release command runs the published image, with the release's config.
    expect(t.swarm.oneOffs).toEqual([{ app: 'shop', release: 2, imageId: '127.0.0.1:5000/minpaas/shop:v2', env: { A: '1' }, resources: t.plan.resources, timeoutMs: 5000, command: 'npm run migrate' }]);
    const [web, worker] = t.swarm.requests;
    expect(web).toEqual({ app: 'shop', release: 2, type: 'web', replicas: 1, command: null, image: '127.0.0.1:5000/minpaas/shop:v2', env: { A: '1' }, appPort: 3000, resources: t.plan.resources });
    expect(worker).toMatchObject({ type: 'worker', command: 'node worker.js', appPort: null, image: '127.0.0.1:5000/minpaas/shop:v2' });

    expect(t.edges.calls).toEqual(['ensure shop v2 shop-web 3000']);
    expect(t.router.calls[0]).toBe(`serve shop ${EDGE_AT.host}:${EDGE_AT.port}`);
    expect(t.store.commits).toHaveLength(1);
    expect(t.store.commits[0]).toMatchObject({ scheduler: 'swarm', deployId: t.deployId, processes: [{ type: 'web', replica: 1, container: EDGE, address: EDGE_AT }] });
    expect(outcome.release.number).toBe(2);
    expect(outcome.processes).toEqual([{ type: 'web', replica: 1, container: EDGE, address: EDGE_AT }]);
    expect(t.store.deploys.get(t.deployId)).toEqual({ status: 'succeeded', release: 2 });

    const text = t.out.text();
    expect(text).toContain('Pushed 127.0.0.1:5000/minpaas/shop:v2');
    expect(text).toContain('migrated 3 tables');
    expect(text).toContain('Rolling out v2 on the swarm: web=1 worker=1');
    expect(text).toContain('shop-web: 1 task(s) of v2 up and answering');
    expect(text).toContain('shop-worker: 1 task(s) of v2 up');
    expect(text).toContain('Routed port 10002 to the swarm');
    await outcome.settled;
    expect(t.router.calls).toEqual([`serve shop ${EDGE_AT.host}:${EDGE_AT.port}`, 'persist']);
    expect(t.router.persisted.get('shop')?.targets).toEqual([EDGE_AT]);
  });

  it('without a registry the image is not pushed (no Pushed line) and runs by its tag', async () => {
    const t = setup('none');
    await t.run();
    expect(t.out.text()).not.toContain('Pushed');
    expect(t.swarm.requests.map((r) => r.image)).toEqual(['minpaas/shop:v2', 'minpaas/shop:v2']);
  });

  it('runs each type with its stored count, and skips the release command when asked', async () => {
    const t = setup('swarm');
    t.store.formations.set('shop', { web: 3, worker: 0 });
    t.plan.runReleasePhase = false;
    await t.run();
    expect(t.swarm.calls).toEqual(['assertReady', 'publish sha256:two', `deploy shop-web v2 x3 ${rolloutTimeoutMs(HEALTH_MS, 3)}ms`, `deploy shop-worker v2 x0 ${rolloutTimeoutMs(HEALTH_MS, 0)}ms`]);
    expect(t.swarm.oneOffs).toEqual([]);
  });

  it('a second deploy behind the same edge does not touch the router', async () => {
    const t = setup('swarm');
    const outcome = await t.run();
    expect(t.router.calls.filter((c) => c.startsWith('serve'))).toEqual([]);
    expect(t.out.text()).not.toContain('Routed');
    expect(t.out.text()).not.toContain('Switched');
    expect(t.swarm.releases()).toEqual({ 'shop-web': 2, 'shop-worker': 2 });
    expect(t.store.commits[0]?.scheduler).toBe('swarm');
    await outcome.settled;
    expect(t.router.calls).toEqual(['persist']);
    // The edge is the app's only container here, and it stays.
    expect([...t.runner.containers.keys()]).toEqual([EDGE]);
  });

  it('a failing worker rolls the web service back; route and store are untouched', async () => {
    const t = setup('swarm');
    t.swarm.failingTypes.add('worker');
    await expect(t.run()).rejects.toMatchObject({ code: 'HEALTH_CHECK_FAILED' });
    expect(t.swarm.undone).toEqual([{ app: 'shop', type: 'web', created: false }]);
    expect(t.swarm.calls.slice(-2)).toEqual([`deploy shop-worker v2 x1 ${ONE}ms`, 'undo shop-web']);
    expect(t.edges.calls).toEqual([]);
    expect(t.router.calls).toEqual([]);
    t.expectUntouched();
  });

  it('a first deploy that fails removes what it made on both schedulers', async () => {
    const t = setup('none');
    t.swarm.failingTypes.add('worker');
    await expect(t.run()).rejects.toMatchObject({ code: 'HEALTH_CHECK_FAILED' });
    expect(t.swarm.undone).toEqual([{ app: 'shop', type: 'web', created: true }]);
    expect(t.swarm.calls.slice(-2)).toEqual(['undo shop-web', 'removeApp shop']);
    expect(t.runner.calls).toEqual(['removeApp shop']);
    expect(t.swarm.services.size).toBe(0);
    t.expectUntouched();
  });

  it('a release command that fails stops before any service changes', async () => {
    const t = setup('swarm');
    t.swarm.oneOffResult = { exitCode: 3, timedOut: false };
    await expect(t.run()).rejects.toMatchObject({ code: 'RELEASE_FAILED', message: expect.stringContaining('exit code 3') });
    expect(t.swarm.calls).toEqual(['assertReady', 'publish sha256:two', 'oneOff npm run migrate']);
    expect(t.edges.calls).toEqual([]);
    t.expectUntouched();
  });

  it('a release command that times out fails the same way', async () => {
    const t = setup('swarm');
    t.swarm.oneOffResult = { exitCode: null, timedOut: true };
    await expect(t.run()).rejects.toMatchObject({ code: 'RELEASE_FAILED', message: expect.stringContaining('within 5 s') });
    expect(t.swarm.requests).toEqual([]);
    t.expectUntouched();
  });

  it('no swarm (SWARM_UNAVAILABLE): nothing happens at all', async () => {
    const t = setup('swarm');
    t.swarm.unavailable = true;
    await expect(t.run()).rejects.toMatchObject({ code: 'SWARM_UNAVAILABLE' });
    expect(t.swarm.calls).toEqual(['assertReady']);
    expect(t.runner.calls).toEqual([]);
    expect(t.edges.calls).toEqual([]);
    expect(t.router.calls).toEqual([]);
    t.expectUntouched();
  });

  it('a publish that fails changes no service', async () => {
    const t = setup('swarm');
    t.swarm.failing.add('publish');
    await expect(t.run()).rejects.toThrow(InjectedFailure);
    expect(t.swarm.requests).toEqual([]);
    t.expectUntouched();
  });

  it('an edge that cannot start rolls every service back, newest first', async () => {
    const t = setup('swarm');
    t.edges.failing = true;
    await expect(t.run()).rejects.toThrow(/injected edge failure/);
    expect(t.swarm.calls.filter((c) => c.startsWith('undo'))).toEqual(['undo shop-worker', 'undo shop-web']);
    expect(t.router.calls).toEqual([]);
    t.expectUntouched();
  });

  it('a move from docker-local switches the route to the edge, then retires the local containers (edge and one-offs stay)', async () => {
    const t = setup('local');
    t.runner.add('minpaas-shop-v1-run-0a1b2c3d', 'shop', null);
    t.runner.add(EDGE, 'shop', EDGE_AT);
    t.store.onCommit = () => expect([...t.runner.containers.keys()]).toContain('minpaas-shop-v1-web-1');
    const outcome = await t.run();
    expect(t.out.text()).toContain('Switched traffic to the swarm; the old containers drained in 42 ms');
    // Committed (and serving) before the old containers go.
    expect(t.store.apps.get('shop')).toMatchObject({ release: 2, container: EDGE, address: EDGE_AT });
    await outcome.settled;
    expect(t.router.calls).toEqual([`serve shop ${EDGE_AT.host}:${EDGE_AT.port}`, 'persist']);
    expect(t.runner.calls).toEqual(['retire minpaas-shop-v1-web-1,minpaas-shop-v1-worker-1']);
    expect([...t.runner.containers.keys()].sort()).toEqual([EDGE, 'minpaas-shop-v1-run-0a1b2c3d']);
    expect(t.router.persisted.get('shop')?.targets).toEqual([EDGE_AT]);
  });

  it('after the commit, services of types the release no longer has go', async () => {
    const t = setup('swarm');
    t.swarm.add('shop', 'clock', { release: 1, replicas: 1, image: 'minpaas/shop:v1', command: 'node clock.js' });
    t.swarm.add('other', 'clock', { release: 4, replicas: 1, image: 'minpaas/other:v4', command: 'node clock.js' });
    const outcome = await t.run();
    expect(t.swarm.services.has('shop-clock')).toBe(true);
    await outcome.settled;
    expect(t.swarm.calls.filter((c) => c.startsWith('remove'))).toEqual(['remove shop-clock']);
    expect([...t.swarm.services.keys()].sort()).toEqual(['other-clock', 'shop-web', 'shop-worker']);
  });

  it('a router that cannot switch: routed back, services rolled back, nothing committed', async () => {
    const t = setup('local');
    t.router.failing.add('serve');
    t.router.failServeTimes = 1;
    await expect(t.run()).rejects.toThrow(/the router could not switch to the swarm edge: injected serve failure/);
    expect(t.router.calls).toEqual([`serve shop ${EDGE_AT.host}:${EDGE_AT.port}`, `serve shop ${LOCAL_AT.host}:${LOCAL_AT.port}`]);
    expect(t.swarm.undone.map((c) => c.type)).toEqual(['worker', 'web']);
    expect([...t.runner.containers.keys()].sort()).toEqual(['minpaas-shop-v1-web-1', 'minpaas-shop-v1-worker-1']);
    t.expectUntouched();
  });

  it('a commit that fails routes back and rolls the services back', async () => {
    const t = setup('local');
    t.store.failCommit = true;
    await expect(t.run()).rejects.toThrow(/injected commit failure/);
    expect(t.router.calls).toEqual([`serve shop ${EDGE_AT.host}:${EDGE_AT.port}`, `serve shop ${LOCAL_AT.host}:${LOCAL_AT.port}`]);
    expect(t.swarm.undone.map((c) => c.type)).toEqual(['worker', 'web']);
    t.expectUntouched();
  });

  it('a first deploy whose commit fails takes its route away again', async () => {
    const t = setup('none');
    t.store.failCommit = true;
    await expect(t.run()).rejects.toThrow(/injected commit failure/);
    expect(t.router.calls).toEqual([`serve shop ${EDGE_AT.host}:${EDGE_AT.port}`, 'remove shop']);
    expect(t.swarm.services.size).toBe(0);
    t.expectUntouched();
  });

  it('a clean-up that fails after the commit is logged; the release stands', async () => {
    const t = setup('local');
    t.swarm.failing.add('typesOf');
    t.router.failing.add('persist');
    const outcome = await t.run();
    await outcome.settled;
    expect(t.store.apps.get('shop')?.release).toBe(2);
    expect(t.lines().some((l) => l.level === 50 && String(l.msg).includes('could not write the router config'))).toBe(true);
    expect(t.lines().some((l) => l.level === 40 && String(l.msg).includes('removing what the app no longer runs failed'))).toBe(true);
  });
});
