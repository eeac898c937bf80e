import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/main.js';
import { bearer, OWNER_TOKEN, request, startHarness, type Harness } from '../helpers/access-harness.js';

/** The users/tokens/access/audit/secrets commands against the real routes and guard (fake app service). */
let h: Harness;

function captureIo() {
  const io = { stdout: '', stderr: '', out: (t: string) => void (io.stdout += t), err: (t: string) => void (io.stderr += t) };
  return io;
}

async function cli(token: string, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const io = captureIo();
  const code = await runCli([...args, '--url', h.url, '--token', token], io);
  return { code, stdout: io.stdout, stderr: io.stderr };
}

beforeAll(async () => {
  h = await startHarness();
  h.store.createApp({ name: 'web', runtime: 'node', repo: null, branch: null, port: 5001 });
});
afterAll(async () => h?.close());

describe('minpaas users, tokens, access, audit, secrets:rotate-key', () => {
  it('an owner adds a user, gives them a token and a role; the user works with it; revoke and remove stop it', async () => {
    expect((await cli(OWNER_TOKEN, 'users:add', 'alice')).stdout).toContain('Added alice');
    expect((await cli(OWNER_TOKEN, 'users')).stdout).toMatch(/alice[\s\S]*owner/);
    const created = await cli(OWNER_TOKEN, 'tokens:create', '--user', 'alice', '--name', 'LAPTOP', '--expires', '90d');
    expect(created.code, created.stderr).toBe(0);
    const token = created.stdout.trim();
    expect(token).toMatch(/^mp_[0-9a-f]{16}_/);
    expect(created.stderr).toContain('shown only now');
    expect((await cli(OWNER_TOKEN, 'access:add', 'web', 'alice', '--role', 'deploy')).stdout).toContain('alice is now deploy on web');
    expect((await cli(OWNER_TOKEN, 'access', 'web')).stdout).toMatch(/alice\s+deploy/);
    expect((await cli(token, 'apps')).code).toBe(0);
    const denied = await cli(token, 'access:add', 'web', 'alice', '--role', 'admin');
    expect(denied.code).toBe(1);
    expect(denied.stderr).toContain('needs admin');
    const listed = await cli(token, 'tokens');
    expect(listed.stdout).toMatch(/LAPTOP\s+active/);
    expect(listed.stdout).not.toContain(token);
    const id = token.split('_')[1]!;
    expect((await cli(token, 'tokens:revoke', id)).stdout).toContain(`Revoked token ${id}`);
    expect((await request(h.url, 'GET', '/apps', bearer(token))).status).toBe(401);
    expect((await cli(OWNER_TOKEN, 'access:remove', 'web', 'alice')).code).toBe(0);
    expect((await cli(OWNER_TOKEN, 'users:remove', 'alice')).stdout).toContain('Removed alice');
  });

  it('access:add refuses a role that does not exist before asking the server', async () => {
    const r = await cli(OWNER_TOKEN, 'access:add', 'web', 'bob', '--role', 'superuser');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--role admin, deploy or read');
  });

  it('audit lists the changes; secrets:rotate-key rotates', async () => {
    const rotated = await cli(OWNER_TOKEN, 'secrets:rotate-key');
    expect(rotated.stdout).toMatch(/Re-encrypted \d+ value\(s\) under key [0-9a-f]{8}/);
    await new Promise((r) => setTimeout(r, 50));
    const audit = await cli(OWNER_TOKEN, 'audit');
    expect(audit.code, audit.stderr).toBe(0);
    for (const action of ['user.add', 'token.create', 'access.add', 'token.revoke', 'user.remove', 'secrets.rotate-key']) expect(audit.stdout).toContain(action);
    const forWeb = await cli(OWNER_TOKEN, 'audit', 'web', '--json');
    const entries = JSON.parse(forWeb.stdout).entries as { app: string }[];
    expect(entries.length).toBeGreaterThan(0);
    expect(entries.every((e) => e.app === 'web')).toBe(true);
  });
});
