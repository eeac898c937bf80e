import { describe, expect, it } from 'vitest';
import { pageOf } from '../../src/apps/app-page.js';
import type { ContainerSummary, DockerEngine } from '../../src/docker/index.js';
import type { AppRow } from '../../src/domain/types.js';
import { ContainerStatuses } from '../../src/runner/container-statuses.js';

/** An in-memory Docker that counts its calls. */
function fakeDocker(summaries: ContainerSummary[], restarts: Record<string, number>) {
  const calls = { list: 0, inspect: 0 };
  const docker = {
    listOwnedContainerSummaries: async (app?: string) => {
      calls.list++;
      return summaries.filter((s) => !app || s.app === app);
    },
    inspect: async (id: string) => {
      calls.inspect++;
      return { restartCount: restarts[id] ?? 0 };
    },
  } as unknown as DockerEngine;
  return { docker, calls };
}

const summary = (app: string, state = 'running', statusText = 'Up 3 minutes'): ContainerSummary => ({ id: `id-${app}`, name: `${app}-v1`, state, statusText, hostPort: 1, app, release: 1 });
const row = (name: string, container: string | null = `${name}-v1`): AppRow => ({ name, container } as AppRow);

describe('container statuses of many apps', () => {
  it('lists 1,000 apps with one Docker call and no inspect while the request waits', async () => {
    const apps = Array.from({ length: 1000 }, (_, i) => row(`app-${i}`));
    const { docker, calls } = fakeDocker(apps.map((a) => summary(a.name)), { 'id-app-7': 3 });
    const statuses = new ContainerStatuses(docker);
    const first = await statuses.forApps(apps);
    expect(calls.list).toBe(1);
    expect(first.get('app-7')).toEqual({ status: 'running', restartCount: 0, containerId: 'id-app-7' });
    await statuses.settled();
    expect(calls.inspect).toBe(1000);
    expect((await statuses.forApps(apps)).get('app-7')?.restartCount).toBe(3);
    // Nothing changed: no inspect at all on the second listing.
    expect(calls).toEqual({ list: 2, inspect: 1000 });
  });

  it('reads a restart count again only when the status text changed (a restart)', async () => {
    const s = summary('web');
    const { docker, calls } = fakeDocker([s], { 'id-web': 0 });
    const statuses = new ContainerStatuses(docker);
    expect((await statuses.forApps([row('web'), row('other', null), row('gone')])).get('gone')?.status).toBe('missing');
    await statuses.settled();
    const restarts = { 'id-web': 1 };
    Object.assign(docker, fakeDocker([{ ...s, statusText: 'Up Less than a second' }], restarts).docker);
    // One app: its count is exact at once.
    expect((await statuses.forApps([row('web')])).get('web')?.restartCount).toBe(1);
    expect(calls.inspect).toBe(1);
  });

  it('pages by name', () => {
    const apps = ['a', 'b', 'c', 'd'].map((n) => row(n));
    expect(pageOf(apps, {}).map((a) => a.name)).toEqual(['a', 'b', 'c', 'd']);
    expect(pageOf(apps, { limit: 2 }).map((a) => a.name)).toEqual(['a', 'b']);
    expect(pageOf(apps, { limit: 2, after: 'b' }).map((a) => a.name)).toEqual(['c', 'd']);
    expect(pageOf(apps, { after: 'bb' }).map((a) => a.name)).toEqual(['c', 'd']);
    expect(pageOf(apps, { after: 'd' })).toEqual([]);
  });
});
