import Database from 'better-sqlite3';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadSecrets, KeyRotation, dropUnusedKeys } from '../../src/secrets/rotation.js';
import { Store } from '../../src/store/store.js';

const SECRET_VALUES = ['s3cr3t-database-password-0001', 'sk_live_abcdefghijklmnop0002', 'webhook-secret-value-0003', 'ghp_forge_deploy_token_0004'];

let dir: string;
const db = (): string => path.join(dir, 'minpaas.db');
const keyPath = (): string => path.join(dir, 'secret.key');

/** The raw bytes of the database and its WAL (and the shared-memory index). */
function rawFiles(): Buffer {
  return Buffer.concat(['', '-wal', '-shm'].map((s) => (fs.existsSync(db() + s) ? fs.readFileSync(db() + s) : Buffer.alloc(0))));
}

function fill(store: Store): void {
  store.createApp({ name: 'alpha', runtime: 'node', repo: null, branch: null, port: 5001 });
  store.setEnv('alpha', { DATABASE_PASSWORD: SECRET_VALUES[0]!, API_KEY: SECRET_VALUES[1]! });
  const deploy = store.startDeploy('alpha', 'push', null);
  store.commitRelease({
    release: { app: 'alpha', number: 1, imageTag: 'img', imageId: 'sha256:1', env: { DATABASE_PASSWORD: SECRET_VALUES[0]!, API_KEY: SECRET_VALUES[1]! }, commit: null, kind: 'build', description: 'd', processTypes: {}, listenPort: null },
    processes: [{ type: 'web', replica: 1, container: 'c', address: { host: '172.18.0.2', port: 3000 } }],
    deployId: deploy.id,
    source: null,
  });
  store.forges.saveConnection({ app: 'alpha', forge: 'github', repo: 'https://github.com/o/r', branch: 'main', secret: SECRET_VALUES[2]!, token: SECRET_VALUES[3]! });
}

function expectReadable(store: Store): void {
  expect(store.getEnv('alpha')).toEqual({ API_KEY: SECRET_VALUES[1], DATABASE_PASSWORD: SECRET_VALUES[0] });
  expect(store.getRelease('alpha', 1)!.env.DATABASE_PASSWORD).toBe(SECRET_VALUES[0]);
  const conn = store.forges.getConnection('alpha')!;
  expect([conn.secret, conn.token]).toEqual([SECRET_VALUES[2], SECRET_VALUES[3]]);
}

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'minpaas-secrets-'));
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('secrets at rest', () => {
  it('neither the database file nor its WAL holds a config value, a release snapshot, a webhook secret or a deploy token', () => {
    const secrets = loadSecrets(keyPath());
    const store = new Store(db(), secrets.cipher);
    fill(store);
    expectReadable(store);
    // While open (values in the WAL) and after close (checkpointed into the file).
    for (const v of SECRET_VALUES) expect(rawFiles().includes(v), `${v} while open`).toBe(false);
    store.close();
    for (const v of SECRET_VALUES) expect(rawFiles().includes(v), `${v} after close`).toBe(false);
    expect(fs.statSync(keyPath()).mode & 0o777).toBe(0o600);
  });

  it('plaintext rows from before encryption are sealed at start-up and leave no trace in the file', () => {
    const plain = new Store(db());
    fill(plain);
    plain.close();
    expect(rawFiles().includes(SECRET_VALUES[0]!)).toBe(true);
    const store = new Store(db(), loadSecrets(keyPath()).cipher);
    expectReadable(store);
    for (const v of SECRET_VALUES) expect(rawFiles().includes(v), v).toBe(false);
    store.close();
    for (const v of SECRET_VALUES) expect(rawFiles().includes(v), v).toBe(false);
  });

  it('a copy of the database without the key reveals nothing, and without the key file nothing opens', () => {
    const store = new Store(db(), loadSecrets(keyPath()).cipher);
    fill(store);
    store.close();
    const raw = new Database(db(), { readonly: true });
    const values = (raw.prepare('SELECT value FROM env').all() as { value: string }[]).map((r) => r.value);
    raw.close();
    expect(values.every((v) => v.startsWith('enc1:'))).toBe(true);
    // The server refuses to start with another key file rather than serve undecryptable config.
    expect(() => new Store(db(), loadSecrets(path.join(dir, 'another.key')).cipher)).toThrow(/does not hold; restore that key file/);
  });

  it('each value has its own nonce: equal values do not look equal', () => {
    const store = new Store(db(), loadSecrets(keyPath()).cipher);
    store.createApp({ name: 'alpha', runtime: 'node', repo: null, branch: null, port: 5001 });
    store.setEnv('alpha', { A: 'same-value', B: 'same-value' });
    store.close();
    const raw = new Database(db(), { readonly: true });
    const [a, b] = (raw.prepare('SELECT value FROM env ORDER BY key').all() as { value: string }[]).map((r) => r.value);
    raw.close();
    expect(a).not.toBe(b);
  });

  it('rotation re-encrypts every value under a new key, keeps every value readable and drops the old key', () => {
    const secrets = loadSecrets(keyPath());
    const store = new Store(db(), secrets.cipher);
    fill(store);
    const oldKey = secrets.keyFile.current().id;
    const result = new KeyRotation(secrets, store).rotate();
    expect(result.keyId).not.toBe(oldKey);
    expect(result.resealed).toBe(5); // 2 env values, 1 release snapshot, secret + token
    expect(secrets.keyFile.ids()).toEqual([result.keyId]);
    expectReadable(store);
    store.close();
    const raw = new Database(db(), { readonly: true });
    const stored = (raw.prepare('SELECT value AS v FROM env UNION ALL SELECT env_json FROM releases UNION ALL SELECT secret FROM forge_connections').all() as { v: string }[]).map((r) => r.v);
    raw.close();
    expect(stored.every((v) => v.startsWith(`enc1:${result.keyId}:`))).toBe(true);
    // A restart with only the new key reads everything.
    const reopened = new Store(db(), loadSecrets(keyPath()).cipher);
    expectReadable(reopened);
    reopened.close();
  });

  it('a rotation interrupted after the new key was added is finished at the next start', () => {
    const secrets = loadSecrets(keyPath());
    const store = new Store(db(), secrets.cipher);
    fill(store);
    store.close();
    const newKey = secrets.keyFile.addKey(); // the crash: key added, nothing re-sealed yet
    const restarted = loadSecrets(keyPath());
    expect(restarted.keyFile.ids()).toHaveLength(2);
    const reopened = new Store(db(), restarted.cipher);
    dropUnusedKeys(restarted);
    expect(restarted.keyFile.ids()).toEqual([newKey]);
    expectReadable(reopened);
    reopened.close();
  });
});
