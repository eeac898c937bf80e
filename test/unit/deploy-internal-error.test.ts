import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeployLocks } from '../../src/deploy/lock.js';
import { DeployPipeline } from '../../src/deploy/pipeline.js';
import type { DeployMetrics } from '../../src/metrics/deploy-metrics.js';
import { Store } from '../../src/store/store.js';

let dir: string;
let store: Store;
beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'minpaas-unit-'));
  store = new Store(path.join(dir, 'db'));
});
afterAll(async () => {
  store.close();
  await fs.rm(dir, { recursive: true, force: true });
});

describe('a deploy that fails on an internal error', () => {
  it('is a 500 INTERNAL naming the deploy; the push output, the answer and the stored deploy carry no internals', async () => {
    const finished: string[] = [];
    const metrics: DeployMetrics = { deployFinished: (app, source, outcome) => finished.push(`${app} ${source} ${outcome}`), released: () => undefined, stepTook: () => undefined };
    // Only the store, the lock and the port probe are reached before the fetch fails; the rest must not be touched.
    const pipeline = new DeployPipeline({
      store,
      locks: new DeployLocks(),
      defaultScheduler: 'docker-local',
      workspaces: path.join(dir, 'workspaces'),
      healthTimeoutMs: 1000,
      workerStartupSeconds: 1,
      releaseTimeoutMs: 1000,
      portInUse: async () => false,
      publicUrl: (port) => `http://127.0.0.1:${port}`,
      log: pino({ level: 'silent' }),
      defaultResources: { memoryBytes: null, cpus: null },
      metrics,
      // The Receive stage fails the way an internal error would: with a raw system message.
      receiver: {
        check: async () => undefined,
        released: () => undefined,
        fetch: async () => {
          throw new Error('EACCES: permission denied, open /var/lib/minpaas/secret-internal-path');
        },
      } as never,
      images: {} as never,
      runner: {} as never,
      router: {} as never,
    });
    const output: string[] = [];
    const attempt = pipeline.buildAndDeploy({
      app: 'internal',
      source: 'push',
      wait: true,
      from: { kind: 'clone', url: 'https://example.invalid/r.git', shown: 'https://example.invalid/r.git', credentials: null, branch: null },
      onLine: (line) => output.push(line),
    });
    const err = await attempt.catch((e: unknown) => e as { code: string; status: number; message: string });
    const deploy = store.listDeploys('internal')[0]!;
    expect(err).toMatchObject({ code: 'INTERNAL', status: 500, message: `internal error; the server log has the details (deploy ${deploy.id})` });
    expect(output.join('\n')).toContain(`deploy ${deploy.id}`);
    expect(output.join('\n')).not.toMatch(/EACCES|secret-internal-path/);
    expect(deploy.status).toBe('failed');
    expect(deploy.error).not.toMatch(/EACCES|secret-internal-path/);
    expect(store.getDeployLog('internal', deploy.id)).not.toMatch(/EACCES|secret-internal-path/);
    expect(finished).toEqual(['internal push failed']);
  });
});
