import Database from 'better-sqlite3';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Authenticator } from '../../src/auth/authenticator.js';
import { issueToken } from '../../src/auth/scoped-tokens.js';
import { basic, bearer, OWNER_TOKEN, request, startHarness, type Harness } from '../helpers/access-harness.js';

describe('authenticator', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => h?.close());

  it('an expired token stops working the moment it expires (cached or not)', async () => {
    let now = Date.now();
    const auth = new Authenticator(h.store.auth, OWNER_TOKEN, { failuresPerMinute: 100, clock: () => now });
    h.store.auth.addUser('clocked', false);
    const issued = await issueToken();
    h.store.auth.addToken({ id: issued.id, user: 'clocked', name: 'ci', salt: issued.salt, hash: issued.hash, expiresAt: new Date(now + 60_000).toISOString() });
    expect(await auth.authenticate(issued.token)).toMatchObject({ user: 'clocked', tokenName: 'ci', owner: false });
    now += 61_000;
    expect(await auth.authenticate(issued.token)).toBeNull();
  });

  it('a wrong secret for a real token id is refused (one KDF, constant-time compare)', async () => {
    const t = await h.tokenFor('kdf-user');
    const wrong = `${t.token.slice(0, -4)}AAAA` === t.token ? `${t.token.slice(0, -4)}BBBB` : `${t.token.slice(0, -4)}AAAA`;
    expect(await h.access.authenticator.authenticate(wrong)).toBeNull();
    expect(await h.access.authenticator.authenticate(t.token)).toMatchObject({ user: 'kdf-user' });
  });

  it('a remembered token keeps authenticating (measured: KDF check vs remembered)', async () => {
    const t = await h.tokenFor('timed-user');
    const auth = new Authenticator(h.store.auth, OWNER_TOKEN, { failuresPerMinute: 100 });
    let start = performance.now();
    await auth.authenticate(t.token);
    const first = performance.now() - start;
    start = performance.now();
    for (let i = 0; i < 20; i++) expect(await auth.authenticate(t.token)).toMatchObject({ user: 'timed-user' });
    const cached = (performance.now() - start) / 20;
    // A figure for the report, not an assertion (timing on a shared machine).
    console.log(`scrypt check: ${first.toFixed(1)} ms; remembered token: ${cached.toFixed(3)} ms`);
  });
});

describe('failed logins are rate-limited per address', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ failuresPerMinute: 5 });
  });
  afterAll(async () => h?.close());

  it('past the limit: 429 with Retry-After for the API and git; valid tokens keep working, quickly, during a flood', async () => {
    h.store.createApp({ name: 'alpha', runtime: 'node', repo: null, branch: null, port: 5001 });
    await h.repos.ensure('alpha');
    const valid = await h.tokenFor('steady', { alpha: 'read' });
    // Used once before the flood, so it is remembered.
    expect((await request(h.url, 'GET', '/apps', bearer(valid.token))).status).toBe(200);
    const bad = await issueToken(); // well-formed, never stored... and one with a real id and a wrong secret
    const realIdWrongSecret = `mp_${valid.id}_${'A'.repeat(43)}`;
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await request(h.url, 'GET', '/apps', bearer(i % 2 ? bad.token : realIdWrongSecret))).status);
    expect(statuses).toEqual([401, 401, 401, 401, 401]);
    const limited = await request(h.url, 'GET', '/apps', bearer(realIdWrongSecret));
    expect(limited.status).toBe(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(Number(limited.headers['retry-after'])).toBeLessThanOrEqual(60);
    expect(JSON.parse(limited.text).error).toMatch(/too many failed logins/);
    const gitLimited = await request(h.url, 'GET', '/alpha.git/info/refs?service=git-upload-pack', basic(realIdWrongSecret));
    expect(gitLimited.status).toBe(429);
    expect(Number(gitLimited.headers['retry-after'])).toBeGreaterThanOrEqual(1);

    // A flood of 300 bad tokens (no KDF runs for them now) while a valid token keeps working.
    const flood = Promise.all(Array.from({ length: 300 }, () => request(h.url, 'GET', '/apps', bearer(realIdWrongSecret)).then((r) => r.status)));
    const timings: number[] = [];
    for (let i = 0; i < 10; i++) {
      const start = performance.now();
      const ok = await request(h.url, 'GET', '/apps/alpha', bearer(valid.token));
      timings.push(performance.now() - start);
      expect(ok.status).toBe(200);
      expect((await request(h.url, 'GET', '/alpha.git/info/refs?service=git-upload-pack', basic(valid.token))).status).toBe(200);
      expect((await request(h.url, 'GET', '/apps/alpha', bearer(OWNER_TOKEN))).status).toBe(200);
    }
    expect((await flood).every((s) => s === 429)).toBe(true);
    console.log(`valid requests during a flood of 300 bad tokens: max ${Math.max(...timings).toFixed(1)} ms`);
  });
});

describe('audit log', () => {
  let h: Harness;
  const VALUE = 'audit-never-shows-this-value-7f3a';
  beforeAll(async () => {
    h = await startHarness();
    h.store.createApp({ name: 'alpha', runtime: 'node', repo: null, branch: null, port: 5001 });
    h.store.createApp({ name: 'beta', runtime: 'node', repo: null, branch: null, port: 5002 });
    await h.repos.ensure('alpha');
  });
  afterAll(async () => h?.close());

  it('records every kind of change with who, from where and the outcome; never a value', async () => {
    const admin = await h.tokenFor('alice', { alpha: 'admin' });
    const deployer = await h.tokenFor('dan', { alpha: 'deploy' });
    const A = bearer(admin.token);
    const O = bearer(OWNER_TOKEN);
    const calls: [string, string, string, unknown?][] = [
      [A, 'PATCH', '/apps/alpha/config', { SECRET_KEY: VALUE, OTHER: 'x' }],
      [A, 'PATCH', '/apps/alpha/config', { OTHER: null }],
      [bearer(deployer.token), 'POST', '/deploy', { app: 'alpha', runtime: 'node', repo: 'https://example.invalid/r.git' }],
      [bearer(deployer.token), 'POST', '/apps/alpha/rollback', { release: 1 }],
      [A, 'PATCH', '/apps/alpha/resources', { memory: '256m' }],
      [A, 'PUT', '/apps/alpha/builder', { builder: 'platform' }],
      [A, 'PUT', '/apps/alpha/forge', { forge: 'github', repo: 'https://github.com/o/r' }],
      [A, 'DELETE', '/apps/alpha/forge'],
      [O, 'POST', '/users', { name: 'bob' }],
      [A, 'PUT', '/apps/alpha/access/bob', { role: 'read' }],
      [A, 'DELETE', '/apps/alpha/access/bob'],
      [O, 'DELETE', '/users/bob'],
      [A, 'POST', '/tokens', { name: 'ci' }],
      [O, 'POST', '/apps', { name: 'gamma' }],
      [O, 'DELETE', '/apps/beta'],
      [O, 'POST', '/secrets/rotate-key'],
      [bearer(deployer.token), 'PATCH', '/apps/alpha/config', { X: VALUE }], // refused: 403
    ];
    // Error answers (an admin's own successful PATCH shows the config, as it should).
    const answers: string[] = [];
    for (const [auth, method, p, body] of calls) {
      const r = await request(h.url, method, p, auth, body);
      if (r.status >= 400) answers.push(r.text);
    }
    expect(answers).toHaveLength(1); // the deploy role's refused config change
    // Refused config changes: the errors name keys, never values.
    for (const body of [{ 'bad key': VALUE }, { GOOD: 42, OTHER: VALUE }, { LONG: VALUE.repeat(2000) }, { NUL: `${VALUE}\u0000` }]) {
      const r = await request(h.url, 'PATCH', '/apps/alpha/config', A, body);
      expect(r.status, r.text).toBe(400);
      answers.push(r.text);
    }
    for (const text of answers) expect(text.includes(VALUE), text).toBe(false);
    const created = JSON.parse((await request(h.url, 'POST', '/tokens', A, { name: 'temp' })).text) as { id: string; token: string };
    await request(h.url, 'DELETE', `/tokens/${created.id}`, A);
    await request(h.url, 'POST', '/alpha.git/git-receive-pack', basic(deployer.token));
    await request(h.url, 'POST', '/hooks/github/alpha', undefined, {});
    await new Promise((r) => setTimeout(r, 100)); // entries are written once each answer is out

    const page = JSON.parse((await request(h.url, 'GET', '/audit?limit=500', O)).text) as { entries: { action: string; user: string; tokenName: string; address: string; app: string | null; detail: unknown; outcome: string; status: number }[] };
    const actions = page.entries.map((e) => e.action);
    for (const a of ['config.set', 'deploy', 'rollback', 'resources.set', 'app.builder', 'forge.connect', 'forge.disconnect', 'user.add', 'access.add', 'access.remove', 'user.remove', 'token.create', 'token.revoke', 'app.create', 'app.delete', 'secrets.rotate-key', 'git.push', 'webhook.deploy']) {
      expect(actions, a).toContain(a);
    }
    const configSet = page.entries.filter((e) => e.action === 'config.set').reverse();
    expect(configSet[0]).toMatchObject({ user: 'alice', tokenName: 'alice-token', address: '127.0.0.1', app: 'alpha', detail: { set: ['SECRET_KEY', 'OTHER'], unset: [] }, outcome: 'succeeded', status: 200 });
    expect(configSet[1]).toMatchObject({ detail: { set: [], unset: ['OTHER'] } });
    expect(configSet[2]).toMatchObject({ user: 'dan', outcome: 'failed', status: 403 });
    expect(page.entries.find((e) => e.action === 'webhook.deploy')).toMatchObject({ user: 'webhook:github', app: 'alpha' });
    expect(page.entries.find((e) => e.action === 'git.push')).toMatchObject({ user: 'dan', app: 'alpha' });

    // No value anywhere: the audit table's raw bytes, the API's answers about it, the server log.
    const raw = new Database(path.join(h.dir, 'minpaas.db'), { readonly: true });
    const dump = JSON.stringify(raw.prepare('SELECT * FROM audit').all());
    raw.close();
    for (const secret of [VALUE, created.token, admin.token, OWNER_TOKEN]) {
      expect(dump.includes(secret), 'audit table').toBe(false);
      expect(JSON.stringify(page).includes(secret), 'GET /audit').toBe(false);
      expect(h.logText().includes(secret), 'server log').toBe(false);
    }
  });

  it('a streamed deploy that fails is audited as failed with its real status', async () => {
    const dev = await h.tokenFor('streamer', { alpha: 'deploy' });
    const r = await request(h.url, 'POST', '/deploy?stream=1', bearer(dev.token), { app: 'alpha', runtime: 'node', repo: 'https://example.invalid/broken.git' });
    expect(r.status).toBe(200);
    expect(r.text).toContain('"status":422');
    await new Promise((res) => setTimeout(res, 50));
    const page = JSON.parse((await request(h.url, 'GET', '/audit?app=alpha&limit=5', bearer(OWNER_TOKEN))).text) as { entries: { action: string; user: string; status: number; outcome: string }[] };
    expect(page.entries.find((e) => e.user === 'streamer')).toMatchObject({ action: 'deploy', status: 422, outcome: 'failed' });
  });

  it('app admins see only their apps; others get nothing or a 404; pages go back with before=', async () => {
    const alice = await h.tokenFor('alice', { alpha: 'admin' });
    const reader = await h.tokenFor('rita', { alpha: 'read' });
    const mine = JSON.parse((await request(h.url, 'GET', '/audit', bearer(alice.token))).text) as { entries: { app: string }[] };
    expect(mine.entries.length).toBeGreaterThan(0);
    expect(mine.entries.every((e) => e.app === 'alpha')).toBe(true);
    expect(JSON.parse((await request(h.url, 'GET', '/audit', bearer(reader.token))).text).entries).toEqual([]);
    expect((await request(h.url, 'GET', '/audit?app=alpha', bearer(reader.token))).status).toBe(403);
    expect((await request(h.url, 'GET', '/audit?app=beta', bearer(alice.token))).status).toBe(404);
    const first = JSON.parse((await request(h.url, 'GET', '/audit?limit=3', bearer(OWNER_TOKEN))).text) as { entries: { id: number }[]; next: number };
    expect(first.entries).toHaveLength(3);
    const second = JSON.parse((await request(h.url, 'GET', `/audit?limit=3&before=${first.next}`, bearer(OWNER_TOKEN))).text) as { entries: { id: number }[] };
    expect(second.entries[0]!.id).toBeLessThan(first.entries[2]!.id);
  });

  it('a token typed into a URL never reaches the server log', async () => {
    const t = await h.tokenFor('typo');
    await request(h.url, 'GET', `/apps/${t.token}`, bearer(OWNER_TOKEN));
    await request(h.url, 'GET', `/nowhere/${t.token}`, bearer(OWNER_TOKEN));
    // The secret is everything after `mp_<id>_`: it may itself hold underscores (or start with one).
    const secret = t.token.slice(t.token.indexOf('_', 3) + 1);
    expect(secret.length).toBeGreaterThan(16);
    expect(h.logText()).not.toContain(secret);
  });
});
