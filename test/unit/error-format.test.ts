import fs from 'node:fs';
import type http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publicDeployError } from '../../src/deploy/pipeline.js';
import { MinPaasError, notFound } from '../../src/errors.js';
import type { Route } from '../../src/http/api-routes.js';
import { createHttpServer } from '../../src/http/server.js';
import { z } from '../../src/http/schemas/zod.js';
import { createAccessLayer } from '../../src/auth/access-layer.js';
import { loadSecrets } from '../../src/secrets/rotation.js';
import { Store } from '../../src/store/store.js';

const TOKEN = 'unit-token-0123456789';
const lines: Record<string, unknown>[] = [];
const sink = new Writable({
  write(chunk, _enc, done) {
    for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
    done();
  },
});

const routes: Route[] = [
  { method: 'GET', path: /^\/boom$/, access: { need: 'user' }, handle: async () => Promise.reject(new Error('ECONNREFUSED /var/run/docker.sock secret-internal-detail')) },
  { method: 'GET', path: /^\/missing$/, access: { need: 'user' }, handle: async () => Promise.reject(notFound('no app named x')) },
  { method: 'GET', path: /^\/failed$/, access: { need: 'user' }, handle: async () => Promise.reject(new MinPaasError('BUILD_FAILED', 'build failed', ['npm ERR! x'])) },
  {
    method: 'POST',
    path: /^\/things$/,
    access: { need: 'user' },
    handle: async ({ res, body }) => {
      res.end(JSON.stringify(body));
    },
    doc: { path: '/things', summary: 't', body: z.object({ n: z.number({ error: 'n must be a number' }) }), responses: {}, errors: [400] },
  },
];

let server: http.Server;
let base: string;
let dir: string;
let store: Store;
beforeAll(async () => {
  // The real access layer: TOKEN is the owner's.
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'minpaas-errors-'));
  const secrets = loadSecrets(path.join(dir, 'secret.key'));
  store = new Store(path.join(dir, 'minpaas.db'), secrets.cipher);
  const access = createAccessLayer({ store, secrets, ownerToken: TOKEN, failuresPerMinute: 1_000_000, log: pino({ level: 'silent' }) });
  server = createHttpServer({ token: TOKEN, guard: access.guard, routes, git: { matches: () => false, handle: async () => undefined }, log: pino({ level: 'debug' }, sink) });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
  store.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const call = async (method: string, path: string, body?: string): Promise<{ status: number; json: Record<string, unknown>; id: string | null }> => {
  const res = await fetch(base + path, { method, headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, ...(body ? { body } : {}) });
  return { status: res.status, json: (await res.json()) as Record<string, unknown>, id: res.headers.get('x-request-id') };
};

describe('one error format for every route', () => {
  it('an internal error is a 500 INTERNAL with the request id (header, body, log line) and no internals', async () => {
    const res = await call('GET', '/boom');
    expect(res.status).toBe(500);
    expect(res.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.json).toEqual({ error: `internal error; the server log has the details (request ${res.id})`, code: 'INTERNAL', requestId: res.id });
    expect(JSON.stringify(res.json)).not.toMatch(/docker\.sock|secret-internal/);
    const logged = lines.find((l) => l.requestId === res.id && l.level === 50);
    expect(logged?.err).toMatch(/secret-internal-detail/);
  });

  it('typed errors carry their code (and details), every answer an X-Request-Id', async () => {
    const missing = await call('GET', '/missing');
    expect(missing).toMatchObject({ status: 404, json: { error: 'no app named x', code: 'NOT_FOUND' } });
    expect(missing.json.requestId).toBeUndefined();
    expect(missing.id).toBeTruthy();
    expect((await call('GET', '/failed')).json).toEqual({ error: 'build failed', code: 'BUILD_FAILED', details: ['npm ERR! x'] });
    expect((await call('GET', '/nowhere')).json).toMatchObject({ code: 'NOT_FOUND' });
    expect(await call('DELETE', '/boom')).toMatchObject({ status: 405, json: { code: 'METHOD_NOT_ALLOWED' } });
    const res = await fetch(`${base}/missing`);
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ code: 'UNAUTHORIZED' });
  });

  it('bodies are checked against the route schema before the handler runs', async () => {
    expect(await call('POST', '/things', '{"n": "x"}')).toMatchObject({ status: 400, json: { code: 'INVALID_INPUT', error: 'n must be a number' } });
    expect(await call('POST', '/things', '{"n": 1, "extra": 2}')).toMatchObject({ status: 200, json: { n: 1 } });
  });

  it('a deploy that fails on an internal error is INTERNAL naming the deploy, not BUILD_FAILED with the raw message', () => {
    const err = publicDeployError(new Error('EACCES /var/lib/docker/x'), 42);
    expect(err).toMatchObject({ code: 'INTERNAL', status: 500 });
    expect(err.message).toBe('internal error; the server log has the details (deploy 42)');
    const typed = new MinPaasError('HEALTH_CHECK_FAILED', 'health check failed');
    expect(publicDeployError(typed, 42)).toBe(typed);
  });
});
