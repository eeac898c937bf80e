import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfigChanges } from '../../src/apps/config-changes.js';
import { assertSelfContained } from '../../src/build/source-tree.js';
import { loadConfig } from '../../src/config.js';
import { restrictToOwner } from '../../src/data-dir.js';
import { imagesToKeep } from '../../src/deploy/image-retention.js';
import { LogTail } from '../../src/docker/log-frames.js';
import { parseRepoSource, redactUrlsIn } from '../../src/domain/repo-url.js';
import { buildLimitOptions, containerGuardsHostConfig, hostConfigFor } from '../../src/docker/resources.js';
import { assertWithinHost, parseMemory } from '../../src/domain/resources.js';
import { credentialConfig, gitConfigEnv } from '../../src/git/clone.js';
import { loggableUrl } from '../../src/http/log-url.js';
import { directoryFiles, resolveRuntime } from '../../src/runtimes/index.js';
import { jsonErrorSummary } from '../../src/runtimes/runtime.js';
import { Store } from '../../src/store/store.js';

const GIB = 1024 ** 3;

function frame(text: string): Buffer {
  const body = Buffer.from(text);
  const header = Buffer.alloc(8);
  header.writeUInt8(1, 0);
  header.writeUInt32BE(body.length, 4);
  return Buffer.concat([header, body]);
}

describe('logged URLs (item 4)', () => {
  it('cuts long URLs to 200 characters and says how long they were', () => {
    const logged = loggableUrl(`/apps/${'x'.repeat(8000)}`);
    expect(logged.length).toBeLessThan(230);
    expect(logged).toMatch(/…\(8006 chars\)$/);
  });
  it('redacts token-like query values, the admin token anywhere, and user-info', () => {
    const logged = loggableUrl('/apps?token=s3cret&tail=5&api_key=k3y&Password=pw', ['ADMINTOKEN']);
    expect(logged).toBe('/apps?token=***&tail=5&api_key=***&Password=***');
    expect(loggableUrl('/apps/ADMINTOKEN/x?y=ADMINTOKEN', ['ADMINTOKEN'])).toBe('/apps/***/x?y=***');
    expect(loggableUrl('/x?next=https://u:pw@host/y')).not.toContain('pw');
  });
  it('redacts before it cuts, so a cut never leaves half a token', () => {
    const logged = loggableUrl(`/${'a'.repeat(190)}?token=${'t'.repeat(50)}`);
    expect(logged).not.toMatch(/t{3}/);
  });
});

describe('credentials in repo URLs (item 5)', () => {
  it('are taken out of the URL git gets and redacted in what people see', () => {
    const source = parseRepoSource('https://user:s%40cret@git.example.com/owner/repo.git');
    expect(source.url).toBe('https://git.example.com/owner/repo.git');
    expect(source.shown).toBe('https://***@git.example.com/owner/repo.git');
    expect(source.credentials).toEqual({ username: 'user', password: 's@cret' });
    expect(parseRepoSource('https://host/x.git')).toEqual({ url: 'https://host/x.git', shown: 'https://host/x.git', credentials: null });
  });
  it('are redacted in any text, and an @ in the path is left alone', () => {
    expect(redactUrlsIn('fatal: could not read https://tok@h:8/x and http://a:b@c/d')).toBe('fatal: could not read https://***@h:8/x and http://***@c/d');
    expect(redactUrlsIn('https://host/users/@me')).toBe('https://host/users/@me');
  });
  it('reach git as an extraHeader through the environment, scoped to the origin, after existing entries', () => {
    const entries = credentialConfig('https://git.example.com:8443/o/r.git', { username: 'u', password: 'p' });
    expect(entries).toEqual([['http.https://git.example.com:8443/.extraHeader', `Authorization: Basic ${Buffer.from('u:p').toString('base64')}`]]);
    expect(gitConfigEnv({ GIT_CONFIG_COUNT: '1' }, entries)).toEqual({
      GIT_CONFIG_COUNT: '2',
      GIT_CONFIG_KEY_1: entries[0]![0],
      GIT_CONFIG_VALUE_1: entries[0]![1],
    });
  });
  it('that an older version stored are redacted when the store opens', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'minpaas-unit-store-'));
    try {
      const file = path.join(dir, 'minpaas.db');
      const old = new Store(file);
      old.createApp({ name: 'web', runtime: 'node', repo: 'https://u:hunter2@git.example.com/r.git', branch: null, port: 10001 });
      const deploy = old.startDeploy('web', 'api', null);
      old.saveDeployLog(deploy.id, '-----> Cloning https://u:hunter2@git.example.com/r.git\n');
      old.failDeploy(deploy.id, 'could not clone https://u:hunter2@git.example.com/r.git: 401');
      old.close();
      const reopened = new Store(file);
      expect(reopened.getApp('web')!.repo).toBe('https://***@git.example.com/r.git');
      expect(reopened.getDeployLog('web', deploy.id)).toBe('-----> Cloning https://***@git.example.com/r.git\n');
      expect(reopened.getDeploy('web', deploy.id)!.error).not.toContain('hunter2');
      reopened.close();
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
  it('never show up in the 400 for an unparseable URL', () => {
    expect(() => parseRepoSource('https://user:hunter2@[bad/x.git')).toThrow(/\*\*\*@/);
    try {
      parseRepoSource('https://user:hunter2@[bad/x.git');
    } catch (err) {
      expect((err as Error).message).not.toContain('hunter2');
    }
  });
});

describe('container and build limits (item 7)', () => {
  it('every app container gets a PID limit and rotating json-file logs', () => {
    expect(containerGuardsHostConfig({ pidsLimit: 256, logMaxBytes: 10 << 20, logMaxFiles: 3 })).toEqual({
      PidsLimit: 256,
      LogConfig: { Type: 'json-file', Config: { 'max-size': String(10 << 20), 'max-file': '3' } },
    });
  });
  it('builds get memory (no extra swap) and a CPU quota; none means no option', () => {
    expect(buildLimitOptions(1 << 30, 1.5)).toEqual({ memory: 1 << 30, memswap: 1 << 30, cpuperiod: 100_000, cpuquota: 150_000 });
    expect(buildLimitOptions(null, null)).toEqual({});
  });
  it('has settings with defaults, and refuses bad ones', () => {
    const limits = loadConfig({}).limits;
    expect(limits).toEqual({ pidsLimit: 512, logMaxBytes: 10 << 20, logMaxFiles: 3, buildMemoryBytes: 2 * GIB, buildCpus: 1 });
    const set = loadConfig({ MINPAAS_PIDS_LIMIT: '100', MINPAAS_LOG_MAX_SIZE: '5m', MINPAAS_LOG_MAX_FILES: '2', MINPAAS_BUILD_MEMORY: 'none', MINPAAS_BUILD_CPUS: '0.5' }).limits;
    expect(set).toEqual({ pidsLimit: 100, logMaxBytes: 5 << 20, logMaxFiles: 2, buildMemoryBytes: null, buildCpus: 0.5 });
    expect(() => loadConfig({ MINPAAS_PIDS_LIMIT: '0' })).toThrow(/MINPAAS_PIDS_LIMIT/);
    expect(() => loadConfig({ MINPAAS_LOG_MAX_SIZE: '10k' })).toThrow(/MINPAAS_LOG_MAX_SIZE/);
    expect(() => loadConfig({ MINPAAS_BUILD_CPUS: 'lots' })).toThrow(/MINPAAS_BUILD_CPUS/);
  });
  it('a log read keeps only its newest bytes, across frames split anywhere', () => {
    const stream = Buffer.concat(Array.from({ length: 1000 }, (_, i) => frame(`line ${i}\n`)));
    const tail = new LogTail(100, true);
    for (let i = 0; i < stream.length; i += 7) tail.push(stream.subarray(i, i + 7));
    const text = tail.text();
    expect(text).toMatch(/^\[MinPaas: earlier output cut/);
    expect(text.endsWith('line 999\n')).toBe(true);
    expect(text).not.toContain('line 980\n');
    const small = new LogTail(1000, true);
    small.push(Buffer.concat([frame('a\n'), frame('b\n')]));
    expect(small.text()).toBe('a\nb\n');
    const tty = new LogTail(4, false);
    tty.push(Buffer.from('xx\nyyy\n'));
    expect(tty.text()).toMatch(/\n$/);
  });
});

describe('limits decided before Docker is asked (item 11)', () => {
  const host = { memoryBytes: 8 * GIB, cpus: 2 };
  it('cpus and memory above the host are a 400 naming what the host has', () => {
    expect(() => assertWithinHost({ memoryBytes: null, cpus: 3 }, host)).toThrow(/cpus 3 is more than this host has \(2 CPUs\)/);
    expect(() => assertWithinHost({ memoryBytes: 9 * GIB, cpus: null }, host)).toThrow(/memory 9g is more than this host has \(8g\)/);
    expect(() => assertWithinHost({ memoryBytes: GIB, cpus: 2 }, host)).not.toThrow();
  });
  it('a memory size that overflows is a 400', () => {
    expect(() => parseMemory('99999999999999999999')).toThrow(/too large/);
    expect(() => parseMemory('99999999999g')).toThrow(/too large/);
  });
  it('lifting a memory limit in place keeps a finite swap limit (cgroup v1 refuses -1 there)', () => {
    const lifted = hostConfigFor({ memoryBytes: null, cpus: 1 }, host);
    expect(lifted.Memory).toBe(8 * GIB);
    expect(lifted.MemorySwap).toBe(16 * GIB);
    expect(hostConfigFor({ memoryBytes: null, cpus: 1 }).MemorySwap).toBe(-1);
  });
  it('a NUL byte in a config value is a 400', () => {
    expect(() => parseConfigChanges({ A: 'x\u0000y' })).toThrow(/NUL/);
  });
});

describe('retention by builds (item 12)', () => {
  const build = (number: number, imageId: string) => ({ number, imageId, kind: 'build' as const });
  const config = (number: number, imageId: string) => ({ number, imageId, kind: 'config' as const });
  const rollback = (number: number, imageId: string) => ({ number, imageId, kind: 'rollback' as const });
  it('keeps the images of the last N builds, whatever config releases came between', () => {
    // v1..v4 builds, then two config changes on v4's image; newest first.
    const releases = [config(6, 'i4'), config(5, 'i4'), build(4, 'i4'), build(3, 'i3'), build(2, 'i2'), build(1, 'i1')];
    expect([...imagesToKeep(releases, 4, 6)].sort()).toEqual(['i1', 'i2', 'i3', 'i4']);
    expect([...imagesToKeep(releases, 2, 6)].sort()).toEqual(['i3', 'i4']);
  });
  it('a rollback is no build; the serving image is always kept', () => {
    const releases = [build(6, 'i6'), rollback(5, 'i1'), config(4, 'i2'), build(2, 'i2'), build(1, 'i1')];
    expect([...imagesToKeep(releases, 2, 6)].sort()).toEqual(['i2', 'i6']);
    expect([...imagesToKeep(releases, 1, 5)].sort()).toEqual(['i1', 'i6']);
  });
});

describe('source trees (item 2)', () => {
  let root: string;
  let outside: string;
  let app: string;
  beforeAll(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'minpaas-unit-tree-'));
    outside = path.join(root, 'secret');
    await fs.writeFile(outside, 'TOKEN-abcdef');
    app = path.join(root, 'app');
    await fs.mkdir(path.join(app, 'sub'), { recursive: true });
  });
  afterAll(async () => fs.rm(root, { recursive: true, force: true }));

  async function tree(links: Record<string, string>, files: Record<string, string> = {}): Promise<string> {
    await fs.rm(app, { recursive: true, force: true });
    await fs.mkdir(path.join(app, 'sub', 'deep'), { recursive: true });
    for (const [name, content] of Object.entries(files)) await fs.writeFile(path.join(app, name), content);
    for (const [name, target] of Object.entries(links)) await fs.symlink(target, path.join(app, name));
    return app;
  }

  it('runtime files that are symlinks out of the tree are not there, and never read', async () => {
    const dir = await tree({ 'package.json': '/etc/passwd', 'app.py': '../secret' }, { 'requirements.txt': '' });
    const files = directoryFiles(dir);
    expect(await files.has('package.json')).toBe(false);
    expect(await files.has('app.py')).toBe(false);
    await expect(files.read('app.py')).rejects.toThrow(/not a regular file inside/);
    await expect(files.read('app.py')).rejects.not.toThrow(/TOKEN/);
  });

  it('a chain of relative links that ends outside is caught', async () => {
    const dir = await tree({ 'sub/deep/up': '../..', 'sub/hop': 'deep/up', 'package.json': 'sub/hop/../secret' });
    expect(await directoryFiles(dir).has('package.json')).toBe(false);
    await expect(assertSelfContained(dir)).rejects.toThrow(/"package.json" is a symlink that points outside/);
  });

  it('links inside the tree are fine; absolute, .. and dangling-outside links are refused', async () => {
    expect(await assertSelfContained(await tree({ 'link.js': 'server.js', 'sub/x': '../server.js' }, { 'server.js': '' }))).toBeUndefined();
    await expect(assertSelfContained(await tree({ abs: '/etc/passwd' }))).rejects.toThrow(/"abs" is a symlink/);
    await expect(assertSelfContained(await tree({ 'sub/up': '../../secret' }))).rejects.toThrow(/"sub\/up"/);
    await expect(assertSelfContained(await tree({ gone: '../no-such-file' }))).rejects.toThrow(/"gone"/);
  });

  it('a parse error of package.json never quotes its content', async () => {
    const dir = await tree({}, { 'package.json': 'root:x:0:0:root:/root:/bin/bash' });
    const err = await resolveRuntime(directoryFiles(dir)).catch((e: Error) => e);
    expect(String(err)).toMatch(/could not parse package.json: invalid JSON/);
    expect(String(err)).not.toContain('root:x');
    expect(jsonErrorSummary(new SyntaxError('Unexpected token } in JSON at position 12'))).toBe('invalid JSON at position 12');
  });

  it('a huge package.json is refused by size, not read', async () => {
    const dir = await tree({}, { 'package.json': `{"a":"${'x'.repeat(2 << 20)}"}` });
    await expect(resolveRuntime(directoryFiles(dir))).rejects.toThrow(/larger than 1024 KiB/);
  });
});

describe('the data dir (item 6)', () => {
  it('is created 0700, with the umask 077, and an old one loses group/other bits', async () => {
    const parent = await fs.mkdtemp(path.join(os.tmpdir(), 'minpaas-unit-data-'));
    const old = process.umask();
    try {
      const dir = path.join(parent, 'data');
      await fs.mkdir(path.join(dir, 'repos'), { recursive: true, mode: 0o755 });
      await fs.chmod(dir, 0o755);
      await fs.writeFile(path.join(dir, 'minpaas.db'), 'x', { mode: 0o644 });
      await fs.writeFile(path.join(dir, 'repos', 'hook'), 'x', { mode: 0o755 });
      await fs.chmod(path.join(dir, 'minpaas.db'), 0o644);
      await fs.chmod(path.join(dir, 'repos', 'hook'), 0o755);
      expect(await restrictToOwner(dir)).toBe(4);
      const mode = async (p: string): Promise<number> => (await fs.stat(path.join(dir, p))).mode & 0o777;
      expect(await mode('.')).toBe(0o700);
      expect(await mode('repos')).toBe(0o700);
      expect(await mode('minpaas.db')).toBe(0o600);
      expect(await mode('repos/hook')).toBe(0o700);
      expect(process.umask()).toBe(0o077);
      expect(await restrictToOwner(dir)).toBe(0);
    } finally {
      process.umask(old);
      await fs.rm(parent, { recursive: true, force: true });
    }
  });
});
