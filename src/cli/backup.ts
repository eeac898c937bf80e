import fs from 'node:fs';
import fsp from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';
import tar from 'tar-fs';
import { restrictToOwner } from '../data-dir.js';
import { MinPaasError } from '../errors.js';
import { backupDatabase, checkDatabase } from '../store/backup.js';

/**
 * What a backup holds, by name in the data dir: the store, the bare repos, the admin token,
 * the instance id (it labels the containers and images this installation owns), the
 * secret key (without it the store's encrypted values cannot be opened), the ACME account
 * key (`tls/`) and the certificates the router serves (`router/certs/`). Workspaces, build caches and the router's files are
 * rebuilt from these.
 */
export const BACKED_UP = ['minpaas.db', 'repos', 'token', 'instance-id', 'secret.key', 'tls', 'router/certs'] as const;

/** `name` or a path below it: what the archive may hold of a backed-up entry. */
const withinEntry = (rel: string): boolean => BACKED_UP.some((name) => rel === name || rel.startsWith(`${name}/`) || name.startsWith(`${rel}/`));
const MANIFEST = 'minpaas-backup.json';

export interface BackupSummary {
  file: string;
  entries: string[];
  bytes: number;
}

/**
 * Writes a gzipped tar of the data dir's state to `file` (mode 0600), with the server
 * running. The store is copied first (online backup), the repos after it: a repo is then
 * at least as new as the releases that name its commits.
 */
export async function backup(dataDir: string, file: string): Promise<BackupSummary> {
  const dbFile = path.join(dataDir, 'minpaas.db');
  if (!fs.existsSync(dbFile)) throw new MinPaasError('NOT_FOUND', `${dataDir} holds no MinPaas store (minpaas.db); pass --data-dir or set MINPAAS_DATA_DIR`);
  const stage = await fsp.mkdtemp(path.join(os.tmpdir(), 'minpaas-backup-'));
  try {
    await backupDatabase(dbFile, path.join(stage, 'minpaas.db'));
    const entries = ['minpaas.db'];
    for (const name of BACKED_UP.slice(1)) {
      const from = path.join(dataDir, name);
      if (!fs.existsSync(from)) continue;
      // Symlinks are kept as links, never followed out of the data dir.
      await fsp.mkdir(path.dirname(path.join(stage, name)), { recursive: true });
      await fsp.cp(from, path.join(stage, name), { recursive: true, verbatimSymlinks: true, preserveTimestamps: true });
      entries.push(name);
    }
    await fsp.writeFile(path.join(stage, MANIFEST), `${JSON.stringify({ format: 1, createdAt: new Date().toISOString(), entries }, null, 2)}\n`);
    await writeArchive(stage, [MANIFEST, ...entries], file);
    return { file, entries, bytes: (await fsp.stat(file)).size };
  } finally {
    await fsp.rm(stage, { recursive: true, force: true });
  }
}

async function writeArchive(stage: string, entries: string[], file: string): Promise<void> {
  // Written beside the target and renamed: a failed backup leaves no partial archive under its name.
  const partial = `${file}.partial-${process.pid}`;
  const out = fs.createWriteStream(partial, { mode: 0o600, flags: 'wx' });
  try {
    await pipeline(tar.pack(stage, { entries }), zlib.createGzip(), out);
    await fsp.chmod(partial, 0o600);
    await fsp.rename(partial, file);
  } catch (err) {
    await fsp.rm(partial, { force: true });
    throw err;
  }
}

/**
 * Unpacks a backup into a data dir that is empty or new; with `force`, into one that
 * holds data (what the backup holds is replaced; the rest stays) but never while a
 * server runs on it.
 */
export async function restore(file: string, dataDir: string, force: boolean): Promise<string[]> {
  if (!fs.existsSync(file)) throw new MinPaasError('NOT_FOUND', `no backup file at ${file}`);
  const existing = fs.existsSync(dataDir) ? await fsp.readdir(dataDir) : [];
  if (existing.length > 0 && !force) {
    throw new MinPaasError('CONFLICT', `${dataDir} is not empty; restore into a new data dir, or pass --force to replace its store, repos, token and certificates`);
  }
  if (await serverRunsOn(dataDir)) throw new MinPaasError('CONFLICT', `a MinPaas server is running on ${dataDir}; stop it before restoring`);
  const stage = await fsp.mkdtemp(path.join(os.tmpdir(), 'minpaas-restore-'));
  try {
    await extractArchive(file, stage);
    const manifest = JSON.parse(await fsp.readFile(path.join(stage, MANIFEST), 'utf8').catch(() => '{}')) as { format?: number; entries?: string[] };
    if (manifest.format !== 1 || !Array.isArray(manifest.entries)) throw new MinPaasError('INVALID_INPUT', `${file} is not a MinPaas backup (no ${MANIFEST})`);
    const check = checkDatabase(path.join(stage, 'minpaas.db'));
    if (check !== 'ok') throw new MinPaasError('INVALID_INPUT', `the store in ${file} is damaged: ${check}`);
    await restrictToOwner(dataDir);
    const entries = BACKED_UP.filter((name) => fs.existsSync(path.join(stage, name)));
    for (const name of [...BACKED_UP, 'minpaas.db-wal', 'minpaas.db-shm']) await fsp.rm(path.join(dataDir, name), { recursive: true, force: true });
    for (const name of entries) {
      await fsp.mkdir(path.dirname(path.join(dataDir, name)), { recursive: true });
      await fsp.rename(path.join(stage, name), path.join(dataDir, name)).catch(() => fsp.cp(path.join(stage, name), path.join(dataDir, name), { recursive: true, verbatimSymlinks: true }));
    }
    await restrictToOwner(dataDir);
    return entries;
  } finally {
    await fsp.rm(stage, { recursive: true, force: true });
  }
}

/** Only the names a backup holds are unpacked; nothing outside the stage dir. */
async function extractArchive(file: string, stage: string): Promise<void> {
  await pipeline(
    fs.createReadStream(file),
    zlib.createGunzip(),
    tar.extract(stage, {
      ignore: (name, header) => {
        const rel = path.relative(stage, name).split(path.sep).join('/');
        return rel.startsWith('..') || path.isAbsolute(rel) || !(rel === MANIFEST || withinEntry(rel)) || header?.type === 'link';
      },
      // (tar-fs reads umask; its type declarations lag behind.)
      umask: 0o077,
    } as tar.ExtractOptions),
  );
}

/** A server listens on the hook socket in its data dir while it runs. */
function serverRunsOn(dataDir: string): Promise<boolean> {
  const socket = path.join(dataDir, 'run', 'hook.sock');
  if (!fs.existsSync(socket)) return Promise.resolve(false);
  return new Promise((resolve) => {
    const conn = net.connect(socket);
    conn.once('connect', () => {
      conn.destroy();
      resolve(true);
    });
    conn.once('error', () => resolve(false));
  });
}
