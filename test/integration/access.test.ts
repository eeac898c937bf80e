import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeApp } from '../fixtures/apps.js';
import { AppRepo } from '../helpers/git.js';
import { httpGet } from '../helpers/http.js';
import { startTestServer, uniqueName, type TestServer } from '../helpers/server.js';

/**
 * Users, roles, scoped tokens and secrets at rest against the real server: a deploy
 * token pushes, a read token cannot, a revoked one stops at once; config values never
 * reach the database file or its WAL; a key rotation keeps the app serving (0 failed
 * requests) and every value readable.
 */

let t: TestServer;
let repo: AppRepo;
const app = uniqueName('access');
const SECRET = `greeting-${Math.random().toString(36).slice(2)}-not-in-the-db`;
const tokens: Record<string, { id: string; token: string }> = {};

async function token(user: string, role: 'admin' | 'deploy' | 'read'): Promise<{ id: string; token: string }> {
  expect((await t.api('POST', '/users', { name: user })).status).toBe(201);
  expect((await t.api('PUT', `/apps/${app}/access/${user}`, { role })).status).toBe(200);
  const created = await t.api('POST', '/tokens', { user, name: `${user}-ci`, expires: '1d' });
  expect(created.status, created.text).toBe(201);
  return { id: created.json.id, token: created.json.token };
}

function rawDatabase(): Buffer {
  const file = path.join(t.dataDir, 'minpaas.db');
  return Buffer.concat(['', '-wal'].map((s) => (fs.existsSync(file + s) ? fs.readFileSync(file + s) : Buffer.alloc(0))));
}

beforeAll(async () => {
  t = await startTestServer();
  repo = await AppRepo.create(nodeApp('access v1'));
  expect((await t.api('POST', '/apps', { name: app, runtime: 'node' })).status).toBe(201);
  tokens.admin = await token('ada', 'admin');
  tokens.deploy = await token('dev', 'deploy');
  tokens.read = await token('rui', 'read');
});

afterAll(async () => {
  await t?.cleanup();
  await repo?.remove();
});

describe('scoped tokens on git and the API', () => {
  it('a read token cannot push (403), a deploy token can', async () => {
    const refused = await repo.push(t.remote(app, tokens.read!.token));
    expect(refused.code).not.toBe(0);
    expect(refused.output).toMatch(/403|needs deploy/);
    const push = await repo.push(t.remote(app, tokens.deploy!.token));
    expect(push.code, push.output).toBe(0);
    const port = (await t.api('GET', `/apps/${app}`)).json.port as number;
    expect((await httpGet(port))?.body).toContain('access v1');
  });

  it('the read token sees the app but not config values; a revoked token stops at once', async () => {
    const set = await t.api('PATCH', `/apps/${app}/config`, { GREETING: SECRET }, tokens.admin!.token);
    expect(set.status, set.text).toBe(200);
    const asRead = await t.api('GET', `/apps/${app}/config`, undefined, tokens.read!.token);
    expect(asRead.status).toBe(200);
    expect(asRead.text).not.toContain(SECRET);
    expect(Object.keys(asRead.json)).toContain('GREETING');
    expect((await t.api('DELETE', `/tokens/${tokens.read!.id}`)).status).toBe(200);
    expect((await t.api('GET', `/apps/${app}`, undefined, tokens.read!.token)).status).toBe(401);
    const fetchAfter = await repo.git('ls-remote', t.remote(app, tokens.read!.token));
    expect(fetchAfter.code).not.toBe(0);
  });

  it('config values are in neither the database file nor its WAL, yet the app runs with them', async () => {
    const port = (await t.api('GET', `/apps/${app}`)).json.port as number;
    expect((await httpGet(port))?.body).toContain(`greeting=${SECRET}`);
    expect(rawDatabase().includes(SECRET)).toBe(false);
    expect(fs.statSync(path.join(t.dataDir, 'secret.key')).mode & 0o777).toBe(0o600);
  });

  it('key rotation: 0 failed requests to the running app, every value readable after', async () => {
    const port = (await t.api('GET', `/apps/${app}`)).json.port as number;
    let stop = false;
    let ok = 0;
    const failures: string[] = [];
    const load = (async () => {
      while (!stop) {
        const r = await httpGet(port);
        if (r?.status === 200 && r.body.includes(`greeting=${SECRET}`)) ok++;
        else failures.push(r ? `${r.status} ${r.body.slice(0, 80)}` : 'no answer');
      }
    })();
    const before = JSON.parse(fs.readFileSync(path.join(t.dataDir, 'secret.key'), 'utf8')) as { current: string };
    const rotated = await t.api('POST', '/secrets/rotate-key');
    expect(rotated.status, rotated.text).toBe(200);
    expect(rotated.json.resealed).toBeGreaterThanOrEqual(2); // the env value and the release snapshots
    const after = JSON.parse(fs.readFileSync(path.join(t.dataDir, 'secret.key'), 'utf8')) as { current: string; keys: Record<string, string> };
    expect(after.current).not.toBe(before.current);
    expect(Object.keys(after.keys)).toEqual([after.current]);
    await new Promise((r) => setTimeout(r, 1000));
    stop = true;
    await load;
    console.log(`rotation under load: ${ok} requests answered, ${failures.length} failed`);
    expect(failures).toEqual([]);
    expect(ok).toBeGreaterThan(0);
    expect((await t.api('GET', `/apps/${app}/config`)).json.GREETING).toBe(SECRET);
    const releases = (await t.api('GET', `/apps/${app}/releases`)).json as { env: Record<string, string> }[];
    expect(releases[0]!.env.GREETING).toBe(SECRET);
    expect(rawDatabase().includes(SECRET)).toBe(false);
  });

  it('the audit log has the push and the config change (keys only), with who and from where', async () => {
    const page = await t.api('GET', `/audit?app=${app}`, undefined, tokens.admin!.token);
    expect(page.status).toBe(200);
    const entries = page.json.entries as { action: string; user: string; tokenName: string; address: string; detail: unknown; outcome: string }[];
    expect(entries.find((e) => e.action === 'git.push' && e.user === 'dev')).toMatchObject({ tokenName: 'dev-ci', address: '127.0.0.1' });
    expect(entries.find((e) => e.action === 'config.set')).toMatchObject({ user: 'ada', detail: { set: ['GREETING'], unset: [] }, outcome: 'succeeded' });
    expect(page.text).not.toContain(SECRET);
  });
});
