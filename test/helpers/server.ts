import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../src/config.js';
import type { DockerEngine } from '../../src/docker/index.js';
import { startServer, type RunningServer } from '../../src/server.js';
import { apiRequest, type ApiResult } from './http.js';

export const TEST_TOKEN = 'test-token-0123456789';

export interface TestServer {
  server: RunningServer;
  dataDir: string;
  url: string;
  docker: DockerEngine;
  /** `http://x:TOKEN@127.0.0.1:PORT/APP.git` */
  remote(app: string, token?: string): string;
  api(method: string, pathname: string, body?: unknown, token?: string): Promise<ApiResult>;
  /** Deletes the apps this test made (containers, images, routes), stops HAProxy and the server, removes the data dir. */
  cleanup(): Promise<void>;
}

/** A unique app name per test run, so tests never meet containers they did not create. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${Math.random().toString(36).slice(2, 8)}`;
}

export async function startTestServer(env: Record<string, string> = {}): Promise<TestServer> {
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'minpaas-test-'));
  let server: RunningServer;
  try {
    const config = loadConfig({
      ...process.env,
      MINPAAS_DATA_DIR: dataDir,
      MINPAAS_PORT: '0',
      MINPAAS_HOST: '127.0.0.1',
      MINPAAS_TOKEN: TEST_TOKEN,
      MINPAAS_HEALTH_TIMEOUT: '20',
      MINPAAS_DRAIN_TIMEOUT: '10',
      // Hostile-input suites send hundreds of wrong tokens on purpose; the limit has its own test.
      MINPAAS_AUTH_FAILURES_PER_MINUTE: '1000000',
      ...env,
    });
    server = await startServer(config);
  } catch (err) {
    // A server that did not start leaves no temp dir behind.
    await fs.rm(dataDir, { recursive: true, force: true });
    throw err;
  }
  const docker = server.docker;
  const url = server.url;
  return {
    server,
    dataDir,
    url,
    docker,
    remote: (app, token = TEST_TOKEN) => `http://x:${encodeURIComponent(token)}@127.0.0.1:${server.port}/${app}.git`,
    api: (method, pathname, body, token = TEST_TOKEN) => apiRequest(url, token, method, pathname, body),
    async cleanup() {
      for (const app of server.store.listApps()) {
        await server.apps.destroy(app.name).catch(() => undefined);
      }
      await server.router.stopProcess().catch(() => undefined);
      await server.close().catch(() => undefined);
      await fs.rm(dataDir, { recursive: true, force: true });
    },
  };
}
