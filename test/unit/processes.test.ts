import { describe, expect, it } from 'vitest';
import { DeployLog } from '../../src/deploy/deploy-log.js';
import { lineSplitter } from '../../src/deploy/release-phase.js';
import { runRelease, type RunPlan } from '../../src/deploy/run-release.js';
import { scaleDiff, scaleProcesses } from '../../src/deploy/scale.js';
import { routeFor } from '../../src/deploy/processes.js';
import { assertScalable, effectiveFormation, parseFormation } from '../../src/domain/processes.js';
import { processesStatus } from '../../src/apps/process-service.js';
import { isOneOffName } from '../../src/docker/labels.js';
import type { Release } from '../../src/domain/types.js';
import { captureLogger, FakeRouter, FakeRunner, FakeStore } from './fakes/ports.js';

/** The Run stage and scaling with several process types and replicas, over the in-memory ports. */

const OLD = { host: '10.0.1.2', port: 3000 };
const TYPES = { web: 'node server.js', worker: 'node worker.js', release: 'node migrate.js' };

function setup(formation: Record<string, number> = {}) {
  const runner = new FakeRunner();
  const router = new FakeRouter();
  const store = new FakeStore();
  const { log, lines } = captureLogger();
  runner.add('minpaas-app-v1-web-1', 'app', OLD);
  const app = store.addApp('app', 10001, { release: 1, placement: { container: 'minpaas-app-v1-web-1', address: OLD } });
  store.formations.set('app', formation);
  router.live.set('app', routeFor(app, store.listProcesses('app')));
  const deployId = store.startDeploy();
  const out = new DeployLog();
  const release: Release = { app: 'app', number: 2, imageTag: 'minpaas/app:v2', imageId: 'sha256:two', env: { A: '1' }, commit: null, kind: 'build', description: 'Deploy', processTypes: TYPES, listenPort: 3000, createdAt: '' };
  const plan: RunPlan = { app, release, appPort: 3000, resources: { memoryBytes: null, cpus: null }, deployId, source: null, runReleasePhase: true, scheduler: 'docker-local' };
  const ports = { runner, router, store, log, healthTimeoutMs: 1000, workerStartupSeconds: 3, releaseTimeoutMs: 5000 };
  const run = (over: Partial<RunPlan> = {}) => runRelease(ports, { ...plan, ...over }, out);
  const expectUntouched = (): void => {
    expect([...runner.containers.keys()]).toEqual(['minpaas-app-v1-web-1']);
    expect(router.targets('app')).toEqual(['10.0.1.2:3000']);
    expect(store.apps.get('app')).toMatchObject({ release: 1, container: 'minpaas-app-v1-web-1' });
    expect(store.releases).toEqual([]);
    expect(store.deploys.get(deployId)?.status).toBe('running');
  };
  return { runner, router, store, out, lines, deployId, run, ports, release, app, expectUntouched };
}

describe('the Run stage with process types and replicas', () => {
  it('runs the release command, then every replica; the router gets all web replicas as one group', async () => {
    const t = setup({ web: 3 });
    t.runner.oneOffOutput = ['migrated 2 tables'];
    const outcome = await t.run();
    await outcome.settled;
    // The release command first, in a one-off of the new image with the new config.
    expect(t.runner.calls[0]).toBe('oneOff node migrate.js');
    expect(t.runner.oneOffs[0]).toMatchObject({ imageId: 'sha256:two', env: { A: '1' }, timeoutMs: 5000 });
    expect(t.out.text()).toContain('-----> Running the release command: node migrate.js');
    expect(t.out.text()).toContain('       migrated 2 tables');
    // web=3 (stored), worker=1 (the default), release never runs as a process.
    expect(t.runner.requests.map((r) => `${r.type}.${r.replica} ${r.command} ${r.appPort}`)).toEqual([
      'web.1 null 3000',
      'web.2 null 3000',
      'web.3 null 3000',
      'worker.1 node worker.js null',
    ]);
    expect(t.runner.calls).toContain('stable minpaas-app-v2-worker-1 3s');
    expect(t.router.targets('app')).toEqual(['10.0.2.2:3000', '10.0.2.3:3000', '10.0.2.4:3000']);
    expect(t.router.calls[0]).toBe('serve app 10.0.2.2:3000,10.0.2.3:3000,10.0.2.4:3000');
    expect(t.store.listProcesses('app').map((p) => p.container)).toEqual([
      'minpaas-app-v2-web-1',
      'minpaas-app-v2-web-2',
      'minpaas-app-v2-web-3',
      'minpaas-app-v2-worker-1',
    ]);
    expect(t.store.apps.get('app')).toMatchObject({ release: 2, container: 'minpaas-app-v2-web-1' });
    // Every new process is kept running; the old release is retired.
    expect([...t.runner.containers.keys()].sort()).toEqual(['minpaas-app-v2-web-1', 'minpaas-app-v2-web-2', 'minpaas-app-v2-web-3', 'minpaas-app-v2-worker-1']);
    expect([...t.runner.containers.values()].every((c) => c.keepRunning)).toBe(true);
    expect(t.runner.calls.at(-1)).toBe('retire minpaas-app-v1-web-1');
  });

  it('a failing release command fails the deploy before any process starts; the old release serves untouched', async () => {
    const t = setup({ web: 3 });
    t.runner.oneOffResult = { exitCode: 3, timedOut: false };
    await expect(t.run()).rejects.toMatchObject({ code: 'RELEASE_FAILED', message: expect.stringContaining('exit code 3') });
    t.expectUntouched();
    expect(t.runner.calls).toEqual(['oneOff node migrate.js']);
    expect(t.router.calls).toEqual([]);
  });

  it('a release command that times out fails the deploy the same way', async () => {
    const t = setup();
    t.runner.oneOffResult = { exitCode: null, timedOut: true };
    await expect(t.run()).rejects.toMatchObject({ code: 'RELEASE_FAILED', message: expect.stringContaining('did not finish within 5 s') });
    t.expectUntouched();
  });

  it('skips the release command when told (rollbacks)', async () => {
    const t = setup();
    await (await t.run({ runReleasePhase: false })).settled;
    expect(t.runner.oneOffs).toEqual([]);
    expect(t.store.apps.get('app')?.release).toBe(2);
  });

  it('one web replica failing its check removes every new replica, started or not, and traffic never moves', async () => {
    const t = setup({ web: 3 });
    t.runner.failingContainers.add('minpaas-app-v2-web-2');
    await expect(t.run()).rejects.toMatchObject({ code: 'HEALTH_CHECK_FAILED' });
    t.expectUntouched();
    expect(t.runner.calls.filter((c) => c.startsWith('remove')).sort()).toEqual([
      'remove minpaas-app-v2-web-1',
      'remove minpaas-app-v2-web-2',
      'remove minpaas-app-v2-web-3',
      'remove minpaas-app-v2-worker-1',
    ]);
  });

  it('a worker that does not stay up fails the deploy', async () => {
    const t = setup();
    t.runner.failingContainers.add('minpaas-app-v2-worker-1');
    await expect(t.run()).rejects.toThrow(/did not stay up 3 s/);
    t.expectUntouched();
  });

  it('web=0 runs no web process and routes nothing (503), workers still run', async () => {
    const t = setup({ web: 0 });
    await (await t.run()).settled;
    expect(t.router.targets('app')).toEqual([]);
    expect(t.store.listProcesses('app').map((p) => `${p.type}.${p.replica}`)).toEqual(['worker.1']);
  });
});

describe('scaling the serving release', () => {
  async function deployed(formation: Record<string, number>) {
    const t = setup(formation);
    await (await t.run()).settled;
    t.runner.calls.length = 0;
    t.router.calls.length = 0;
    const committed = t.store.releases[0]!;
    const scale = (changes: Record<string, number>) =>
      scaleProcesses(t.ports, { app: t.store.apps.get('app')!, release: committed, appPort: 3000, resources: { memoryBytes: null, cpus: null }, changes, deployId: t.store.startDeploy() }, new DeployLog());
    return { ...t, scale };
  }

  it('up: new replicas start and pass their check before the group switches to all of them', async () => {
    const t = await deployed({ web: 1 });
    await t.scale({ web: 3 });
    expect(t.runner.calls.slice(0, 4)).toEqual(['start minpaas-app-v2-web-2', 'start minpaas-app-v2-web-3', 'health minpaas-app-v2-web-2', 'health minpaas-app-v2-web-3']);
    expect(t.router.calls).toEqual(['serve app 10.0.2.2:3000,10.0.2.3:3000,10.0.2.4:3000', 'persist']);
    expect(t.store.getFormation('app')).toEqual({ web: 3 });
    expect(t.runner.calls.some((c) => c.startsWith('retire'))).toBe(false);
  });

  it('down: the group switches to the replicas that stay (the old group drains), and only then the others stop', async () => {
    const t = await deployed({ web: 3 });
    await t.scale({ web: 1, worker: 0 });
    const serveAt = t.router.calls.indexOf('serve app 10.0.2.2:3000');
    expect(serveAt).toBe(0);
    expect(t.runner.calls.at(-1)).toBe('retire minpaas-app-v2-web-2,minpaas-app-v2-web-3,minpaas-app-v2-worker-1');
    expect(t.store.listProcesses('app').map((p) => p.container)).toEqual(['minpaas-app-v2-web-1']);
    expect(t.store.getFormation('app')).toEqual({ web: 1, worker: 0 });
  });

  it('a new replica that fails its check: it is removed, the route and the counts stay as they were', async () => {
    const t = await deployed({ web: 1 });
    t.runner.failingContainers.add('minpaas-app-v2-web-2');
    await expect(t.scale({ web: 2 })).rejects.toMatchObject({ code: 'HEALTH_CHECK_FAILED' });
    expect(t.router.calls).toEqual([]);
    expect(t.router.targets('app')).toEqual(['10.0.2.2:3000']);
    expect(t.store.getFormation('app')).toEqual({ web: 1 });
    expect(t.runner.containers.has('minpaas-app-v2-web-2')).toBe(false);
  });

  it('a failure after the commit (router file, stopping) is logged, never undone', async () => {
    const t = await deployed({ web: 3 });
    t.router.failing.add('persist');
    t.runner.failing.add('retire');
    await t.scale({ web: 1 });
    expect(t.router.targets('app')).toEqual(['10.0.2.2:3000']);
    expect(t.store.getFormation('app')).toEqual({ web: 1 });
    expect(t.lines().some((l) => String(l.msg).includes('could not write the router config'))).toBe(true);
    expect(t.lines().some((l) => String(l.msg).includes('stopping the replicas scaled away failed'))).toBe(true);
  });

  it('numbers new replicas after those that run, and stops the highest ones', () => {
    const p = (type: string, replica: number) => ({ type, replica, container: `${type}-${replica}`, address: null });
    expect(scaleDiff([p('web', 1), p('web', 2)], { web: 4, worker: 1 })).toEqual({ start: [{ type: 'web', replica: 3 }, { type: 'web', replica: 4 }, { type: 'worker', replica: 1 }], stop: [] });
    expect(scaleDiff([p('web', 1), p('web', 2), p('web', 3)], { web: 1 }).stop.map((x) => x.container)).toEqual(['web-2', 'web-3']);
  });
});

describe('formation rules', () => {
  it('defaults every type to 1, never runs release, and checks scale requests against the release', () => {
    expect(effectiveFormation(TYPES, {})).toEqual({ web: 1, worker: 1 });
    expect(effectiveFormation(TYPES, { web: 3, gone: 2 })).toEqual({ web: 3, worker: 1 });
    expect(() => assertScalable({ clock: 1 }, TYPES)).toThrow(/no process type clock; its types are: web, worker/);
    expect(() => assertScalable({ release: 1 }, TYPES)).toThrow(/cannot be scaled/);
    expect(() => parseFormation({ web: 11 })).toThrow(/0 to 10/);
    expect(() => parseFormation({ web: -1 })).toThrow(/0 to 10/);
    expect(() => parseFormation({ 'We b': 1 })).toThrow(/invalid process type/);
    expect(() => parseFormation([])).toThrow(/JSON object/);
    expect(parseFormation({ web: 3, worker: 0 })).toEqual({ web: 3, worker: 0 });
  });

  it('an app whose web processes all crashed is crashed, not running', () => {
    const p = (type: string, status: string, restarts = 0, uptime: number | null = 60) => ({ type, status, restarts, uptime });
    expect(processesStatus([p('web', 'restarting', 3, null), p('web', 'exited', 1, null), p('worker', 'running')])).toBe('crashed');
    expect(processesStatus([p('web', 'running'), p('web', 'restarting', 2, null)])).toBe('degraded');
    expect(processesStatus([p('web', 'running')])).toBe('running');
    // A restart loop passes through "running" for a moment: that is not up yet.
    expect(processesStatus([p('web', 'running', 4, 0), p('web', 'exited', 2, null)])).toBe('crashed');
    expect(processesStatus([p('web', 'running', 4, 30)])).toBe('running');
    expect(processesStatus([])).toBe('none');
  });

  it('tells one-off containers from the replicas of a process type named run', () => {
    expect(isOneOffName('minpaas-app-v3-run-1a2b3c4d')).toBe(true);
    expect(isOneOffName('minpaas-app-v3-run-1')).toBe(false);
    expect(isOneOffName('minpaas-app-v3-web-10')).toBe(false);
  });

  it('splits streamed output into lines across chunks', () => {
    const lines: string[] = [];
    const s = lineSplitter((l) => lines.push(l));
    s.push(Buffer.from('a\nb'));
    s.push(Buffer.from('c\r\nd'));
    s.flush();
    expect(lines).toEqual(['a', 'bc', 'd']);
  });
});
