import { describe, expect, it } from 'vitest';
import { AddressFollower } from '../../src/deploy/address-follower.js';
import { reconcile } from '../../src/deploy/reconcile.js';
import { routeFor } from '../../src/deploy/run-release.js';
import { DeployLocks } from '../../src/deploy/lock.js';
import { captureLogger, FakeRouter, FakeRunner, FakeStore } from './fakes/ports.js';

const addr = (host: string) => ({ host, port: 3000 });

function world() {
  const runner = new FakeRunner();
  const router = new FakeRouter();
  const store = new FakeStore();
  const { log, lines } = captureLogger();
  const locks = new DeployLocks();
  const queued = async <T>(app: string, fn: () => Promise<T>): Promise<T> => {
    const unlock = await locks.acquire(app);
    try {
      return await fn();
    } finally {
      unlock();
    }
  };
  return { runner, router, store, log, lines, locks, ports: { runner, router, store, log, queued } };
}

describe('start-up reconciliation', () => {
  it('removes orphans, restarts stopped containers, follows moved addresses, reports missing ones, and routes what the store says', async () => {
    const w = world();
    w.store.addApp('up', 10001, { release: 1, placement: { container: 'minpaas-up-v1', address: addr('10.0.1.2') } });
    w.store.addApp('stopped', 10002, { release: 3, placement: { container: 'minpaas-stopped-v3', address: addr('10.0.3.2') } });
    w.store.addApp('moved', 10003, { release: 2, placement: { container: 'minpaas-moved-v2', address: addr('10.0.2.2') } });
    w.store.addApp('gone', 10004, { release: 1, placement: { container: 'minpaas-gone-v1', address: addr('10.0.4.2') } });
    w.store.addApp('fresh', 10005);
    w.store.startDeploy(); // left running by a crash
    w.runner.add('minpaas-up-v1', 'up', addr('10.0.1.2'));
    w.runner.add('minpaas-stopped-v3', 'stopped', addr('10.0.3.2'), false);
    w.runner.add('minpaas-moved-v2', 'moved', addr('10.0.9.9'));
    w.runner.add('minpaas-up-v2', 'up', addr('10.0.1.3')); // a deploy that died half-way
    w.router.live.set('stale', { app: 'stale', port: 10009, targets: [] });
    w.runner.networks.add('deleted'); // an app deleted while its network could not be removed

    const report = await reconcile(w.ports);

    expect(report).toEqual({
      interrupted: 1,
      restarted: ['minpaas-stopped-v3'],
      missing: ['gone'],
      removedOrphans: ['minpaas-up-v2'],
      removedApps: ['deleted'],
      moved: ['moved'],
    });
    expect(w.runner.networks.has('deleted')).toBe(false);
    expect([...w.runner.containers.keys()].sort()).toEqual(['minpaas-moved-v2', 'minpaas-stopped-v3', 'minpaas-up-v1']);
    expect(w.store.apps.get('moved')?.address).toEqual(addr('10.0.9.9'));
    // Exactly the store's routes: apps with an address; the app without a release is not routed.
    expect([...w.router.live.keys()].sort()).toEqual(['gone', 'moved', 'stopped', 'up']);
    expect(w.router.target('moved')).toBe('10.0.9.9:3000');
    expect(w.router.target('stopped')).toBe('10.0.3.2:3000');
    expect(w.lines().some((l) => l.msg === 'app containers are missing; redeploy these apps')).toBe(true);
  });

  it('an app whose containers all run where the store says changes nothing but the router', async () => {
    const w = world();
    w.store.addApp('up', 10001, { release: 1, placement: { container: 'minpaas-up-v1', address: addr('10.0.1.2') } });
    w.runner.add('minpaas-up-v1', 'up', addr('10.0.1.2'));
    const report = await reconcile(w.ports);
    expect(report).toEqual({ interrupted: 0, restarted: [], missing: [], removedOrphans: [], removedApps: [], moved: [] });
    expect(w.runner.calls).toEqual([]);
    expect(w.router.calls).toEqual(['ensureRunning up']);
  });
});

describe('the address follower', () => {
  it('routes to a serving container that Docker restarted at another address', async () => {
    const w = world();
    const app = w.store.addApp('web', 10001, { release: 1, placement: { container: 'minpaas-web-v1', address: addr('10.0.1.2') } });
    w.runner.add('minpaas-web-v1', 'web', addr('10.0.1.2'));
    w.router.live.set('web', routeFor(app, [{ type: 'web', replica: 1, container: 'minpaas-web-v1', address: addr('10.0.1.2') }]));
    const follower = new AddressFollower(w.ports);
    expect(await follower.follow('minpaas-web-v1')).toBe(false); // same address: nothing to do
    w.runner.containers.get('minpaas-web-v1')!.address = addr('10.0.1.7');
    expect(await follower.follow('minpaas-web-v1')).toBe(true);
    expect(w.store.apps.get('web')?.address).toEqual(addr('10.0.1.7'));
    expect(w.router.target('web')).toBe('10.0.1.7:3000');
    expect(w.router.persisted.get('web')?.targets).toEqual([addr('10.0.1.7')]);
  });

  it('ignores containers that serve no app (a deploy’s new one) and hears of restarts through the runner', async () => {
    const w = world();
    const app = w.store.addApp('web', 10001, { release: 1, placement: { container: 'minpaas-web-v1', address: addr('10.0.1.2') } });
    w.runner.add('minpaas-web-v1', 'web', addr('10.0.1.2'));
    w.runner.add('minpaas-web-v2', 'web', addr('10.0.2.2'));
    w.router.live.set('web', routeFor(app, [{ type: 'web', replica: 1, container: 'minpaas-web-v1', address: addr('10.0.1.2') }]));
    const follower = new AddressFollower(w.ports);
    expect(await follower.follow('minpaas-web-v2')).toBe(false);
    await follower.start();
    w.runner.restartAt('minpaas-web-v1', addr('10.0.1.9'));
    await new Promise((r) => setTimeout(r, 0));
    expect(w.router.target('web')).toBe('10.0.1.9:3000');
    follower.close();
  });

  it('waits for a deploy of the app to finish, then follows only if the container still serves', async () => {
    const w = world();
    const app = w.store.addApp('web', 10001, { release: 1, placement: { container: 'minpaas-web-v1', address: addr('10.0.1.2') } });
    w.runner.add('minpaas-web-v1', 'web', addr('10.0.1.5'));
    w.router.live.set('web', routeFor(app, [{ type: 'web', replica: 1, container: 'minpaas-web-v1', address: addr('10.0.1.2') }]));
    const unlock = w.locks.tryAcquire('web'); // a deploy runs
    const following = new AddressFollower(w.ports).follow('minpaas-web-v1');
    await new Promise((r) => setTimeout(r, 10));
    expect(w.router.calls).toEqual([]);
    // The deploy released v2 meanwhile: v1 no longer serves, so its move is not followed.
    w.store.processes.set('web', [{ type: 'web', replica: 1, container: 'minpaas-web-v2', address: addr('10.0.2.2') }]);
    unlock();
    expect(await following).toBe(false);
    expect(w.router.calls).toEqual([]);
  });

  it('follows one web replica of several: the whole group is routed again, the others unchanged', async () => {
    const w = world();
    const app = w.store.addApp('web', 10001, { release: 1, placement: { container: 'minpaas-web-v1-web-1', address: addr('10.0.1.2') } });
    const procs = [1, 2, 3].map((i) => ({ type: 'web', replica: i, container: `minpaas-web-v1-web-${i}`, address: addr(`10.0.1.${i + 1}`) }));
    w.store.processes.set('web', [...procs, { type: 'worker', replica: 1, container: 'minpaas-web-v1-worker-1', address: null }]);
    for (const p of procs) w.runner.add(p.container, 'web', p.address);
    w.runner.add('minpaas-web-v1-worker-1', 'web', null);
    w.router.live.set('web', routeFor(app, procs));
    const follower = new AddressFollower(w.ports);
    expect(await follower.follow('minpaas-web-v1-worker-1')).toBe(false); // workers have no route
    w.runner.containers.get('minpaas-web-v1-web-2')!.address = addr('10.0.1.9');
    expect(await follower.follow('minpaas-web-v1-web-2')).toBe(true);
    expect(w.router.targets('web')).toEqual(['10.0.1.2:3000', '10.0.1.9:3000', '10.0.1.4:3000']);
  });
});

describe('start-up reconciliation with several processes per app', () => {
  it('keeps, restarts and routes every replica, and removes one-offs and retired replicas', async () => {
    const w = world();
    w.store.addApp('app', 10001, { release: 2, placement: { container: 'minpaas-app-v2-web-1', address: addr('10.0.2.2') } });
    const procs = [1, 2].map((i) => ({ type: 'web', replica: i, container: `minpaas-app-v2-web-${i}`, address: addr(`10.0.2.${i + 1}`) }));
    w.store.processes.set('app', [...procs, { type: 'worker', replica: 1, container: 'minpaas-app-v2-worker-1', address: null }]);
    w.runner.add('minpaas-app-v2-web-1', 'app', addr('10.0.2.2'));
    w.runner.add('minpaas-app-v2-web-2', 'app', addr('10.0.2.3'), false); // crashed, not restarted
    w.runner.add('minpaas-app-v2-worker-1', 'app', null);
    w.runner.add('minpaas-app-v2-web-3', 'app', addr('10.0.2.4')); // scaled away, stop interrupted
    w.runner.add('minpaas-app-v2-run-1a2b3c4d', 'app', null); // a one-off whose client left with the server
    const report = await reconcile(w.ports);
    expect(report.restarted).toEqual(['minpaas-app-v2-web-2']);
    expect(report.removedOrphans.sort()).toEqual(['minpaas-app-v2-run-1a2b3c4d', 'minpaas-app-v2-web-3']);
    expect(w.router.targets('app')).toEqual(['10.0.2.2:3000', '10.0.2.3:3000']);
  });
});
