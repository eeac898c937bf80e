import { describe, expect, it } from 'vitest';
import { DeployLog } from '../../src/deploy/deploy-log.js';
import { routeFor, runRelease, type RunPlan } from '../../src/deploy/run-release.js';
import { captureLogger, FakeRouter, FakeRunner, FakeStore, InjectedFailure } from './fakes/ports.js';

/**
 * The whole Run stage over in-memory fakes of its three ports: every step failing in
 * turn, and what runs, what is undone, what the store says and what serves after.
 */

const OLD = { host: '10.0.1.2', port: 3000 };
const NEW = '10.0.2.2:3000';

function setup(opts: { previous?: boolean } = {}) {
  const runner = new FakeRunner();
  const router = new FakeRouter();
  const store = new FakeStore();
  const { log, lines } = captureLogger();
  const previous = opts.previous ?? true;
  let app;
  if (previous) {
    runner.add('minpaas-web-v1', 'web', OLD);
    app = store.addApp('web', 10001, { release: 1, placement: { container: 'minpaas-web-v1', address: OLD } });
    router.live.set('web', routeFor(app, [{ type: 'web', replica: 1, container: 'minpaas-web-v1', address: OLD }]));
    router.persisted = new Map(router.live);
  } else {
    app = store.addApp('web', 10001);
  }
  const deployId = store.startDeploy();
  const out = new DeployLog();
  const plan: RunPlan = {
    app,
    release: { app: 'web', number: 2, imageTag: 'minpaas/web:v2', imageId: 'sha256:two', env: { A: '1' }, commit: null, kind: 'build', description: 'Deploy', processTypes: { web: 'npm start' }, listenPort: 3000 },
    appPort: 3000,
    resources: { memoryBytes: null, cpus: null },
    deployId,
    source: null,
    runReleasePhase: true,
    scheduler: 'docker-local',
  };
  const run = () => runRelease({ runner, router, store, log, healthTimeoutMs: 1000, workerStartupSeconds: 3, releaseTimeoutMs: 5000 }, plan, out);
  /** Nothing of the attempt is left: the previous release serves as before. */
  const expectUntouched = (): void => {
    expect([...runner.containers.keys()]).toEqual(previous ? ['minpaas-web-v1'] : []);
    expect(router.target('web')).toBe(previous ? '10.0.1.2:3000' : null);
    expect(store.apps.get('web')).toMatchObject(previous ? { release: 1, container: 'minpaas-web-v1', address: OLD } : { release: null, container: null, address: null });
    expect(store.releases).toEqual([]);
    expect(store.deploys.get(deployId)?.status).toBe('running');
  };
  return { runner, router, store, out, lines, deployId, run, expectUntouched };
}

describe('the Run stage', () => {
  it('starts, checks, switches, commits, then persists and retires the old release', async () => {
    const t = setup();
    const outcome = await t.run();
    expect(outcome.release.number).toBe(2);
    // Serving and committed before the old one goes.
    expect(t.router.target('web')).toBe(NEW);
    expect(t.store.apps.get('web')).toMatchObject({ release: 2, container: 'minpaas-web-v2-web-1', address: { host: '10.0.2.2', port: 3000 } });
    expect(t.store.deploys.get(t.deployId)).toEqual({ status: 'succeeded', release: 2 });
    await outcome.settled;
    expect(t.router.persisted.get('web')?.targets).toEqual([{ host: '10.0.2.2', port: 3000 }]);
    expect([...t.runner.containers.keys()]).toEqual(['minpaas-web-v2-web-1']);
    expect(t.runner.containers.get('minpaas-web-v2-web-1')?.keepRunning).toBe(true);
    expect(t.runner.calls).toEqual(['start minpaas-web-v2-web-1', 'health minpaas-web-v2-web-1', 'keepRunning minpaas-web-v2-web-1', 'retire minpaas-web-v1']);
    expect(t.router.calls).toEqual([`serve web ${NEW}`, 'persist']);
    expect(t.out.text()).toContain('-----> Health check passed: web.1 (HTTP 200 after 0.1 s)');
    expect(t.out.text()).toContain('-----> Switched traffic; old release drained in 42 ms (1 web process)');
  });

  it('a first release adds the route and has nothing to retire', async () => {
    const t = setup({ previous: false });
    const outcome = await t.run();
    await outcome.settled;
    expect(t.router.target('web')).toBe(NEW);
    expect(t.out.text()).toContain('-----> Routed port 10001 to 1 web process');
    expect(t.runner.calls.at(-1)).toBe('retire ');
    expect(t.store.apps.get('web')?.release).toBe(2);
  });

  it('a first release that fails removes what the runner made for the app (its network)', async () => {
    const t = setup({ previous: false });
    t.runner.networks.add('web');
    t.runner.failing.add('health');
    await expect(t.run()).rejects.toMatchObject({ code: 'HEALTH_CHECK_FAILED' });
    t.expectUntouched();
    expect(t.runner.calls.at(-1)).toBe('removeApp web');
    expect(t.runner.networks.has('web')).toBe(false);
  });

  it('start fails: nothing to undo, the old release serves', async () => {
    const t = setup();
    t.runner.failing.add('start');
    await expect(t.run()).rejects.toThrow(InjectedFailure);
    t.expectUntouched();
    expect(t.router.calls).toEqual([]);
  });

  it('health check fails: the new container is removed, traffic never moved', async () => {
    const t = setup();
    t.runner.failing.add('health');
    await expect(t.run()).rejects.toMatchObject({ code: 'HEALTH_CHECK_FAILED' });
    t.expectUntouched();
    expect(t.runner.calls).toEqual(['start minpaas-web-v2-web-1', 'health minpaas-web-v2-web-1', 'remove minpaas-web-v2-web-1']);
    expect(t.router.calls).toEqual([]);
  });

  it('switch fails: routed back to the old release, then the new container is removed', async () => {
    const t = setup();
    t.router.failing.add('serve');
    t.router.failServeTimes = 1;
    await expect(t.run()).rejects.toThrow(/the router could not switch to the new release: injected serve failure/);
    t.expectUntouched();
    expect(t.router.calls).toEqual([`serve web ${NEW}`, 'serve web 10.0.1.2:3000']);
    expect(t.runner.calls.slice(-1)).toEqual(['remove minpaas-web-v2-web-1']);
  });

  it('a switch that half happened (lost while draining) is routed back too', async () => {
    const t = setup();
    t.router.failing.add('serve-half');
    t.router.failServeTimes = 1;
    await expect(t.run()).rejects.toThrow(/could not switch/);
    t.expectUntouched();
  });

  it('a failed first switch removes the route it may have added', async () => {
    const t = setup({ previous: false });
    t.router.failing.add('serve-half');
    t.router.failServeTimes = 1;
    await expect(t.run()).rejects.toThrow(/could not switch/);
    t.expectUntouched();
    expect(t.router.calls).toEqual([`serve web ${NEW}`, 'remove web']);
  });

  it('commit fails: switched back, new container removed, nothing recorded', async () => {
    const t = setup();
    t.store.failCommit = true;
    await expect(t.run()).rejects.toThrow(/injected commit failure/);
    t.expectUntouched();
    expect(t.router.calls).toEqual([`serve web ${NEW}`, 'serve web 10.0.1.2:3000']);
    // The restart policy had settled before the container went.
    expect(t.runner.calls).toEqual(['start minpaas-web-v2-web-1', 'health minpaas-web-v2-web-1', 'keepRunning minpaas-web-v2-web-1', 'remove minpaas-web-v2-web-1']);
  });

  it('an undo that fails is logged and the other undos still run', async () => {
    const t = setup();
    t.store.failCommit = true;
    t.router.failing.add('serve');
    t.router.failServeTimes = undefined;
    // The switch itself fails here, and so does the switch back.
    await expect(t.run()).rejects.toThrow(/could not switch/);
    expect([...t.runner.containers.keys()]).toEqual(['minpaas-web-v1']);
    expect(t.lines().some((l) => l.msg === 'an undo failed' && l.undo === 'route back to the previous release')).toBe(true);
  });

  it('persist fails after the commit: the release stands, the old one still retires, the failure is logged', async () => {
    const t = setup();
    t.router.failing.add('persist');
    const outcome = await t.run();
    await outcome.settled;
    expect(t.router.target('web')).toBe(NEW);
    expect(t.router.persisted.get('web')?.targets).toEqual([OLD]);
    expect(t.store.apps.get('web')?.release).toBe(2);
    expect([...t.runner.containers.keys()]).toEqual(['minpaas-web-v2-web-1']);
    expect(t.lines().some((l) => l.level === 50 && String(l.msg).includes('could not write the router config'))).toBe(true);
  });

  it('retire fails after the commit: the release stands, the old container is left for start-up', async () => {
    const t = setup();
    t.runner.failing.add('retire');
    const outcome = await t.run();
    await outcome.settled;
    expect(t.router.target('web')).toBe(NEW);
    expect(t.store.deploys.get(t.deployId)?.status).toBe('succeeded');
    expect([...t.runner.containers.keys()].sort()).toEqual(['minpaas-web-v1', 'minpaas-web-v2-web-1']);
    expect(t.lines().some((l) => String(l.msg).includes('retiring the old release failed'))).toBe(true);
  });

  it('listing the old containers fails after the commit: the release stands, nothing is retired', async () => {
    const t = setup();
    t.runner.failing.add('list');
    const outcome = await t.run();
    await outcome.settled;
    expect(t.store.apps.get('web')?.release).toBe(2);
    expect(t.runner.calls.at(-1)).toBe('retire ');
  });

  it('a restart policy that cannot be set does not fail the release', async () => {
    const t = setup();
    t.runner.failing.add('keepRunning');
    const outcome = await t.run();
    await outcome.settled;
    expect(t.store.apps.get('web')?.release).toBe(2);
    expect(t.lines().some((l) => String(l.msg).includes('could not set the restart policy'))).toBe(true);
  });
});
