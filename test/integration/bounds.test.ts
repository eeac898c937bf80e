import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeApp } from '../fixtures/apps.js';
import { AppRepo, run } from '../helpers/git.js';
import { eventually, httpGet } from '../helpers/http.js';
import { startTestServer, uniqueName, type TestServer } from '../helpers/server.js';

// Disk, time, size and privilege bounds: old images go, builds and pushes have limits,
// containers get resource limits that can change without a rebuild, and run hardened.
let t: TestServer;
const repos: AppRepo[] = [];

beforeAll(async () => {
  t = await startTestServer({
    MINPAAS_KEEP_RELEASES: '2',
    MINPAAS_BUILD_TIMEOUT: '10',
    MINPAAS_MAX_PUSH_SIZE: '1m',
    MINPAAS_DEFAULT_MEMORY: '256m',
    MINPAAS_DEFAULT_CPUS: '0.5',
  });
});

afterAll(async () => {
  await t?.cleanup();
  for (const repo of repos) await repo.remove();
});

async function newRepo(files: Record<string, string>): Promise<AppRepo> {
  const repo = await AppRepo.create(files);
  repos.push(repo);
  return repo;
}

async function inspect(container: string): Promise<any> {
  return JSON.parse((await run('docker', ['inspect', container])).stdout)[0];
}

describe('image retention', () => {
  const app = uniqueName('keep');

  it('keeps the images of the last MINPAAS_KEEP_RELEASES releases, and rollback to a pruned one is a clear 409', async () => {
    const repo = await newRepo(nodeApp('r1'));
    for (let i = 1; i <= 4; i++) {
      if (i > 1) await repo.commit(nodeApp(`r${i}`), `r${i}`);
      const push = await repo.push(t.remote(app));
      expect(push.code, push.output).toBe(0);
    }
    const tags = await eventually(async () => {
      const list = (await t.docker.listOwnedImages(app)).flatMap((i) => i.tags).sort();
      expect(list).toEqual([`minpaas/${app}:v3`, `minpaas/${app}:v4`]);
      return list;
    });
    expect(tags).toHaveLength(2);
    const res = await t.api('POST', `/apps/${app}/rollback`, { release: 1 });
    expect(res.status).toBe(409);
    expect(res.json.error).toMatch(/the image of v1 was removed; push or deploy again instead/);
    expect((await httpGet(t.server.store.getApp(app)!.port))?.body).toMatch(/^r4 /);
    // A rollback to a kept image still works.
    expect((await t.api('POST', `/apps/${app}/rollback`, { release: 3 })).status).toBe(200);
    expect((await httpGet(t.server.store.getApp(app)!.port))?.body).toMatch(/^r3 /);
  });
});

describe('build layers a failed build leaves behind', () => {
  it('are labelled, found and removed; images MinPaas did not build are untouched', async () => {
    const app = uniqueName('layers');
    const repo = await newRepo(nodeApp('fails late', {
      'package.json': JSON.stringify({ name: 'x', version: '1.0.0', scripts: { start: 'node server.js', install: `echo ${app}; exit 3` } }),
    }));
    expect((await repo.push(t.remote(app))).code).not.toBe(0);
    // Build caches (a build stage's result, kept for the next push) carry minpaas.build-layer=false.
    // Only layers older than `before` count: another build on the same engine may be making new ones.
    const dangling = async (before = Date.now()): Promise<string[]> => {
      const ids = (await run('docker', ['images', '-q', '--no-trunc', '--filter', 'dangling=true', '--filter', 'label=minpaas.build-layer=true'])).stdout.split('\n').filter(Boolean);
      if (ids.length === 0) return [];
      const created = (await run('docker', ['image', 'inspect', '--format', '{{.Id}} {{.Created}}', ...ids])).stdout.split('\n').filter(Boolean);
      const old = created.filter((l) => Date.parse(l.split(' ')[1]!) < before).map((l) => l.split(' ')[0]!);
      // A layer a running build step stands on is in use, not left behind.
      const idle: string[] = [];
      for (const id of old) if ((await run('docker', ['ps', '-aq', '--filter', `ancestor=${id}`])).stdout.trim() === '') idle.push(id);
      return idle;
    };
    expect((await dangling()).length).toBeGreaterThan(0);
    const tagged = async (): Promise<string> => (await run('docker', ['images', '--format', '{{.Repository}}:{{.Tag}} {{.ID}}'])).stdout.split('\n').filter((l) => !l.startsWith('<none>')).sort().join('\n');
    const taggedBefore = await tagged();
    // After a deploy, MinPaas waits 10 minutes (a running build may still need them); here: now.
    const pruneStart = Date.now();
    expect(await t.docker.pruneBuildLayers(0)).toBeGreaterThan(0);
    expect(await dangling(pruneStart)).toEqual([]);
    // Every tagged image (base images, other apps' releases) is still there.
    expect(await tagged()).toBe(taggedBefore);
    expect((await run('docker', ['image', 'inspect', 'minpaas-base/node:bookworm'])).code).toBe(0);
  });
});

describe('resource limits and hardening', () => {
  const app = uniqueName('limits');

  it('new containers get the default limits, run non-root, without capabilities or the Docker socket', async () => {
    const repo = await newRepo(nodeApp('limited'));
    expect((await repo.push(t.remote(app))).code).toBe(0);
    const record = (await t.api('GET', `/apps/${app}`)).json;
    expect(record.resources).toEqual({ memory: '256m', cpus: 0.5 });
    const info = await inspect(record.container);
    expect(info.HostConfig.Memory).toBe(256 * 1024 * 1024);
    expect(info.HostConfig.NanoCpus).toBe(0.5e9);
    expect(info.Config.User).toBe('minpaas');
    expect(info.HostConfig.CapDrop).toEqual(['ALL']);
    expect(info.HostConfig.SecurityOpt).toContain('no-new-privileges:true');
    expect(info.HostConfig.Privileged).toBe(false);
    expect(info.Mounts).toEqual([]);
    expect(JSON.stringify(info.HostConfig.Binds ?? [])).not.toContain('docker.sock');
    const id = (await run('docker', ['exec', record.container, 'id', '-u'])).stdout.trim();
    expect(id).not.toBe('0');
  });

  it('PATCH /resources changes the running container in place: same container, no new release', async () => {
    const before = (await t.api('GET', `/apps/${app}`)).json;
    const res = await t.api('PATCH', `/apps/${app}/resources`, { memory: '384m', cpus: '0.25' });
    expect(res.status, res.text).toBe(200);
    expect(res.json.resources).toEqual({ memory: '384m', cpus: 0.25 });
    expect(res.json.container).toBe(before.container);
    expect(res.json.release).toBe(before.release);
    const info = await inspect(before.container);
    expect(info.HostConfig.Memory).toBe(384 * 1024 * 1024);
    expect(info.HostConfig.NanoCpus).toBe(0.25e9);
    expect((await httpGet(before.port))?.status).toBe(200);
    // Later releases keep the app's limits.
    await t.api('PATCH', `/apps/${app}/config`, { GREETING: 'x' });
    const after = (await t.api('GET', `/apps/${app}`)).json;
    expect((await inspect(after.container)).HostConfig.Memory).toBe(384 * 1024 * 1024);
    // null goes back to the default; "none" lifts the limit.
    const reset = await t.api('PATCH', `/apps/${app}/resources`, { memory: null, cpus: 'none' });
    expect(reset.json.resources).toEqual({ memory: '256m', cpus: null });
    // Docker cannot clear a limit in place: the whole host is the same as no limit.
    const cpus = Number((await run('docker', ['info', '--format', '{{.NCPU}}'])).stdout.trim());
    expect((await inspect(after.container)).HostConfig.NanoCpus).toBe(cpus * 1e9);
  });

  it.each([
    [{ memory: 'lots' }, /not a size/],
    [{ memory: '1k' }, /too small/],
    [{ cpus: -1 }, /not a number/],
    [{ cpus: '2000' }, /out of range/],
    [{ disk: '1g' }, /unknown resource "disk"/],
    [{}, /give "memory"/],
    [{ memory: ['1g'] }, /must be a size/],
  ])('refuses %j with a 400 and changes nothing', async (body, why) => {
    const before = t.server.store.getApp(app)!;
    const res = await t.api('PATCH', `/apps/${app}/resources`, body);
    expect(res.status).toBe(400);
    expect(res.json.error).toMatch(why);
    const after = t.server.store.getApp(app)!;
    expect([after.memoryLimit, after.cpuLimit]).toEqual([before.memoryLimit, before.cpuLimit]);
  });
});

describe('build timeout and push size', () => {
  const app = uniqueName('limits2');

  it('a build past MINPAAS_BUILD_TIMEOUT is stopped with a clear message, nothing released', async () => {
    const repo = await newRepo(nodeApp('slow build', {
      'package.json': JSON.stringify({ name: 'x', version: '1.0.0', scripts: { start: 'node server.js', install: `sleep 120 # ${app}` } }),
    }));
    const push = await repo.push(t.remote(app));
    expect(push.code).not.toBe(0);
    expect(push.output).toContain('build timed out after 0.2 min (MINPAAS_BUILD_TIMEOUT); nothing was released');
    // The app stays (its first deploy failed): no release.
    expect(t.server.store.getApp(app)?.release).toBeNull();
    expect(await t.docker.listOwnedImages(app)).toEqual([]);
    // The builder's own container for that step is gone too (Docker cancels the build).
    await eventually(async () => {
      const ps = await run('docker', ['ps', '--format', '{{.Command}}', '--no-trunc']);
      expect(ps.stdout).not.toContain(app);
    }, 30_000, 500);
  });

  it('a push larger than MINPAAS_MAX_PUSH_SIZE is refused by git with a clear message, nothing stored', async () => {
    const big = await newRepo(nodeApp('big'));
    // About 2 MB once git has compressed it.
    const noise = randomBytes(2 * 1024 * 1024).toString('base64');
    await big.commit({ 'noise.txt': noise }, 'big file');
    const push = await big.push(t.remote(app));
    expect(push.code).not.toBe(0);
    expect(push.output).toMatch(/pack exceeds maximum allowed size/);
    expect((await big.git('ls-remote', t.remote(app))).stdout.trim()).toBe('');
    // The app stays (its first deploy failed): no release.
    expect(t.server.store.getApp(app)?.release).toBeNull();
  });
});
