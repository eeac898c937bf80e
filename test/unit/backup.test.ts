import fs from 'node:fs/promises';
import { createWriteStream } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';
import tarStream from 'tar-stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { backup, restore } from '../../src/cli/backup.js';
import { runCli } from '../../src/cli/main.js';
import { Store } from '../../src/store/store.js';

let dir: string;
let source: string;
let store: Store;

beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'minpaas-backup-test-'));
  source = path.join(dir, 'source');
  await fs.mkdir(path.join(source, 'repos', 'web.git', 'refs'), { recursive: true });
  await fs.writeFile(path.join(source, 'repos', 'web.git', 'HEAD'), 'ref: refs/heads/main\n');
  await fs.writeFile(path.join(source, 'token'), 'secret-token\n', { mode: 0o600 });
  await fs.writeFile(path.join(source, 'instance-id'), 'abcdefgh12\n');
  await fs.mkdir(path.join(source, 'workspaces', 'web'), { recursive: true });
  // The "running server": its store stays open (WAL, a writer) during the backup.
  store = new Store(path.join(source, 'minpaas.db'));
  store.createApp({ name: 'web', runtime: 'node', repo: null, branch: null, port: 12345 });
  store.setEnv('web', { GREETING: 'hello' });
});

afterEach(async () => {
  store.close();
  await fs.rm(dir, { recursive: true, force: true });
});

describe('backup and restore', () => {
  it('carries the secret key, the ACME account key and the served certificates, but not the rest of the router dir', async () => {
    await fs.writeFile(path.join(source, 'secret.key'), '{"keys":[]}\n', { mode: 0o600 });
    await fs.mkdir(path.join(source, 'tls'), { recursive: true });
    await fs.writeFile(path.join(source, 'tls', 'account.key'), 'ACCOUNT KEY\n', { mode: 0o600 });
    await fs.mkdir(path.join(source, 'router', 'certs'), { recursive: true });
    await fs.writeFile(path.join(source, 'router', 'certs', 'www.example.com.pem'), 'CERT AND KEY\n', { mode: 0o600 });
    await fs.writeFile(path.join(source, 'router', 'haproxy.cfg'), 'generated\n');
    const file = path.join(dir, 'b.tar.gz');
    expect((await backup(source, file)).entries).toEqual(['minpaas.db', 'repos', 'token', 'instance-id', 'secret.key', 'tls', 'router/certs']);
    const target = path.join(dir, 'restored');
    await restore(file, target, false);
    expect(await fs.readFile(path.join(target, 'tls', 'account.key'), 'utf8')).toBe('ACCOUNT KEY\n');
    expect(await fs.readFile(path.join(target, 'router', 'certs', 'www.example.com.pem'), 'utf8')).toBe('CERT AND KEY\n');
    expect((await fs.stat(path.join(target, 'router', 'certs', 'www.example.com.pem'))).mode & 0o077).toBe(0);
    // The router's config is generated again from the store.
    await expect(fs.access(path.join(target, 'router', 'haproxy.cfg'))).rejects.toThrow();
  });

  it('copies the open store, repos, token and instance id into an owner-only archive, and restores them into a new dir', async () => {
    const file = path.join(dir, 'b.tar.gz');
    const summary = await backup(source, file);
    expect(summary.entries).toEqual(['minpaas.db', 'repos', 'token', 'instance-id']);
    expect((await fs.stat(file)).mode & 0o777).toBe(0o600);
    // Written after the backup: not in it (one point in time).
    store.setEnv('web', { GREETING: 'later' });

    const target = path.join(dir, 'restored');
    expect(await restore(file, target, false)).toEqual(['minpaas.db', 'repos', 'token', 'instance-id']);
    const restored = new Store(path.join(target, 'minpaas.db'));
    try {
      expect(restored.getApp('web')?.port).toBe(12345);
      expect(restored.getEnv('web')).toEqual({ GREETING: 'hello' });
    } finally {
      restored.close();
    }
    expect(await fs.readFile(path.join(target, 'repos', 'web.git', 'HEAD'), 'utf8')).toBe('ref: refs/heads/main\n');
    expect(await fs.readFile(path.join(target, 'token'), 'utf8')).toBe('secret-token\n');
    expect((await fs.stat(path.join(target, 'token'))).mode & 0o077).toBe(0);
    expect((await fs.stat(target)).mode & 0o077).toBe(0);
    // Workspaces are rebuilt, not backed up.
    await expect(fs.access(path.join(target, 'workspaces'))).rejects.toThrow();
  });

  it('refuses a non-empty data dir without --force, and replaces its store with it', async () => {
    const file = path.join(dir, 'b.tar.gz');
    await backup(source, file);
    const target = path.join(dir, 'busy');
    await fs.mkdir(target);
    await fs.writeFile(path.join(target, 'token'), 'other\n');
    await fs.writeFile(path.join(target, 'keep-me'), 'x');
    await expect(restore(file, target, false)).rejects.toThrow(/not empty.*--force/);
    expect(await fs.readFile(path.join(target, 'token'), 'utf8')).toBe('other\n');
    await restore(file, target, true);
    expect(await fs.readFile(path.join(target, 'token'), 'utf8')).toBe('secret-token\n');
    expect(await fs.readFile(path.join(target, 'keep-me'), 'utf8')).toBe('x');
  });

  it('the CLI refuses to restore over a data dir while its server runs, and names the file it wrote', async () => {
    const io = { out: (t: string) => void out.push(t), err: (t: string) => void err.push(t) };
    const out: string[] = [];
    const err: string[] = [];
    const file = path.join(dir, 'cli.tar.gz');
    expect(await runCli(['backup', file, '--data-dir', source], io)).toBe(0);
    expect(out.join('')).toContain(file);
    // A listening hook socket is what a running server has.
    const net = await import('node:net');
    await fs.mkdir(path.join(source, 'run'), { recursive: true });
    const sock = net.createServer().listen(path.join(source, 'run', 'hook.sock'));
    await new Promise((r) => sock.once('listening', r));
    try {
      expect(await runCli(['restore', file, '--data-dir', source, '--force'], io)).toBe(1);
      expect(err.join('')).toMatch(/server is running/);
    } finally {
      sock.close();
    }
    expect(await runCli(['backup', path.join(dir, 'x.tar.gz'), '--data-dir', path.join(dir, 'nothing')], io)).toBe(1);
  });

  it('unpacks only what a backup holds: an entry aiming outside the data dir is ignored', async () => {
    const file = path.join(dir, 'evil.tar.gz');
    const good = path.join(dir, 'good.tar.gz');
    await backup(source, good);
    // A hand-made archive: a real store plus entries that try to escape.
    const pack = tarStream.pack();
    pack.entry({ name: 'minpaas-backup.json' }, JSON.stringify({ format: 1, entries: ['minpaas.db'] }));
    pack.entry({ name: 'minpaas.db' }, await extractDb(good));
    pack.entry({ name: '../escaped' }, 'x');
    pack.entry({ name: 'workspaces/planted' }, 'x');
    pack.finalize();
    await pipeline(pack, zlib.createGzip(), createWriteStream(file));
    const target = path.join(dir, 'restored');
    await restore(file, target, false);
    await expect(fs.access(path.join(dir, 'escaped'))).rejects.toThrow();
    await expect(fs.access(path.join(target, 'workspaces'))).rejects.toThrow();
    await expect(fs.access(path.join(target, 'minpaas.db'))).resolves.toBeUndefined();
  });

  it('refuses a file that is not a MinPaas backup', async () => {
    const file = path.join(dir, 'not.tar.gz');
    const pack = tarStream.pack();
    pack.entry({ name: 'token' }, 'x');
    pack.finalize();
    await pipeline(pack, zlib.createGzip(), createWriteStream(file));
    await expect(restore(file, path.join(dir, 'r'), false)).rejects.toThrow(/not a MinPaas backup/);
  });
});

async function extractDb(archive: string): Promise<Buffer> {
  const extract = tarStream.extract();
  let found: Buffer | undefined;
  extract.on('entry', (header, stream, next) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: unknown) => chunks.push(c as Buffer));
    stream.on('end', () => {
      if (header.name === 'minpaas.db') found = Buffer.concat(chunks);
      next();
    });
  });
  const { createReadStream } = await import('node:fs');
  await pipeline(createReadStream(archive), zlib.createGunzip(), extract);
  return found!;
}
