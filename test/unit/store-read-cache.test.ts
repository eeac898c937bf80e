import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ValueCipher } from '../../src/secrets/cipher.js';
import { KeyRotation, loadSecrets, type Secrets } from '../../src/secrets/rotation.js';
import { Store } from '../../src/store/store.js';

let dir: string;
let secrets: Secrets;
let opened: number;
let store: Store;

/** The server's cipher, counting decryptions (a cached read decrypts nothing). */
function countingCipher(inner: ValueCipher): ValueCipher {
  return {
    seal: (plain) => inner.seal(plain),
    open: (stored) => {
      opened++;
      return inner.open(stored);
    },
    keyOf: (stored) => inner.keyOf(stored),
    currentKeyId: () => inner.currentKeyId(),
  };
}

function addApp(name: string, port: number, env: Record<string, string>): void {
  store.createApp({ name, runtime: 'node', repo: null, branch: null, port });
  store.setEnv(name, env);
  release(name, 1, env);
}

function release(name: string, number: number, env: Record<string, string>): void {
  const deploy = store.startDeploy(name, 'push', null);
  store.commitRelease({
    release: { app: name, number, imageTag: `img/${name}:v${number}`, imageId: `sha256:${number}`, env, commit: null, kind: 'build', description: 'd', processTypes: { web: 'x' }, listenPort: null },
    processes: [{ type: 'web', replica: 1, container: `${name}-v${number}`, address: { host: '172.18.0.2', port: 3000 } }],
    deployId: deploy.id,
    source: null,
  });
}

const envOf = (name: string): Record<string, string> | undefined => store.envOfAll().get(name);

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'minpaas-read-cache-'));
  secrets = loadSecrets(path.join(dir, 'secret.key'));
  opened = 0;
  store = new Store(path.join(dir, 'minpaas.db'), countingCipher(secrets.cipher));
  addApp('alpha', 5001, { A: '1', B: '2' });
  addApp('beta', 5002, { C: '3' });
  opened = 0;
});
afterEach(() => {
  store.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('Store read cache', () => {
  it('decrypts every config value once, not on each listing', () => {
    expect(envOf('alpha')).toEqual({ A: '1', B: '2' });
    const first = opened;
    expect(first).toBe(3);
    for (let i = 0; i < 5; i++) {
      expect(store.envOfAll()).toEqual(new Map([['alpha', { A: '1', B: '2' }], ['beta', { C: '3' }]]));
      expect(store.listApps().map((a) => a.name)).toEqual(['alpha', 'beta']);
    }
    expect(opened).toBe(first);
  });

  it('serves the new config after setEnv, commitRelease and deleteApp', () => {
    expect(envOf('alpha')).toEqual({ A: '1', B: '2' });
    store.setEnv('alpha', { A: 'changed' });
    expect(envOf('alpha')).toEqual({ A: 'changed' });

    expect(store.currentImages().get('beta')).toBe('img/beta:v1');
    release('beta', 2, { C: '4', D: '5' });
    expect(envOf('beta')).toEqual({ C: '4', D: '5' });
    expect(store.currentImages().get('beta')).toBe('img/beta:v2');
    expect(store.listApps().find((a) => a.name === 'beta')!.release).toBe(2);

    expect(store.appOnPort(5001)).toBe('alpha');
    store.deleteApp('alpha');
    expect(store.listApps().map((a) => a.name)).toEqual(['beta']);
    expect(envOf('alpha')).toBeUndefined();
    expect(store.currentImages().has('alpha')).toBe(false);
    expect(store.lastDeployStatuses().has('alpha')).toBe(false);
    expect(store.appOnPort(5001)).toBeUndefined();
  });

  it('follows placements, limits and deploy states', () => {
    expect(store.lastDeployStatuses().get('alpha')).toBe('succeeded');
    const deploy = store.startDeploy('alpha', 'push', null);
    expect(store.lastDeployStatuses().get('alpha')).toBe('running');
    store.failDeploy(deploy.id, 'boom');
    expect(store.lastDeployStatuses().get('alpha')).toBe('failed');
    store.setLimits('alpha', { memoryLimit: 1024, cpuLimit: null });
    store.setProcessAddress('alpha', 'alpha-v1', { host: '172.18.0.9', port: 3001 });
    const alpha = store.listApps().find((a) => a.name === 'alpha')!;
    expect([alpha.memoryLimit, alpha.address]).toEqual([1024, { host: '172.18.0.9', port: 3001 }]);
  });

  it('stays right across a key rotation, and reads with the new key once the old one is gone', () => {
    expect(envOf('alpha')).toEqual({ A: '1', B: '2' });
    const { resealed } = new KeyRotation(secrets, store).rotate();
    expect(resealed).toBeGreaterThan(0);
    expect(secrets.keyFile.ids()).toHaveLength(1);
    const before = opened;
    expect(store.envOfAll()).toEqual(new Map([['alpha', { A: '1', B: '2' }], ['beta', { C: '3' }]]));
    // The rotation rewrote the values: they were read again, under the new key.
    expect(opened).toBeGreaterThan(before);
    store.setEnv('beta', { C: 'after-rotation' });
    expect(envOf('beta')).toEqual({ C: 'after-rotation' });
  });

  it('sees a write made by another connection to the same file', () => {
    expect(envOf('alpha')).toEqual({ A: '1', B: '2' });
    const other = new Store(path.join(dir, 'minpaas.db'), secrets.cipher);
    try {
      other.setEnv('alpha', { A: 'from-elsewhere' });
      other.createApp({ name: 'gamma', runtime: 'node', repo: null, branch: null, port: 5003 });
    } finally {
      other.close();
    }
    expect(envOf('alpha')).toEqual({ A: 'from-elsewhere' });
    expect(store.listApps().map((a) => a.name)).toEqual(['alpha', 'beta', 'gamma']);
  });

  it('keeps nothing a rolled-back transaction read', () => {
    expect(() =>
      store.tx(() => {
        store.setEnv('alpha', { A: 'rolled-back' });
        expect(envOf('alpha')).toEqual({ A: 'rolled-back' });
        throw new Error('abort');
      }),
    ).toThrow('abort');
    expect(envOf('alpha')).toEqual({ A: '1', B: '2' });
  });

  it('hands out copies of rows, and frozen shared values elsewhere: nothing kept can be changed', () => {
    expect(() => {
      (store.envOfAll().get('alpha') as Record<string, string>).A = 'mutated';
    }).toThrow(TypeError);
    expect(() => {
      (store.sharedApps()[0] as { release: number | null }).release = 9;
    }).toThrow(TypeError);
    expect(() => {
      (store.sharedApps()[0]!.address as { port: number }).port = 1;
    }).toThrow(TypeError);
    store.listApps()[0]!.address!.port = 1;
    expect(envOf('alpha')).toEqual({ A: '1', B: '2' });
    expect(store.listApps()[0]!.address).toEqual({ host: '172.18.0.2', port: 3000 });
    expect(store.currentImages().get('alpha')).toBe('img/alpha:v1');
    expect(store.sharedApps()).toBe(store.sharedApps());
  });
});

describe('Store.releaseImageIds', () => {
  it('lists the image of every release of every app without decrypting a release', () => {
    release('alpha', 2, { A: '9' });
    opened = 0;
    expect(store.releaseImageIds()).toEqual(new Set(['sha256:1', 'sha256:2']));
    expect(opened).toBe(0);
    store.deleteApp('alpha');
    store.deleteApp('beta');
    expect(store.releaseImageIds()).toEqual(new Set());
  });
});
