import http from 'node:http';
import type net from 'node:net';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient } from '../../src/cli/client.js';
import type { CommandContext } from '../../src/cli/command.js';
import { forgeCommands } from '../../src/cli/commands/forges.js';
import { runCli } from '../../src/cli/main.js';

/** A fake admin API (unit test only): records requests, answers what the route table says. */
const seen: { method: string; url: string; body: any }[] = [];
let server: http.Server;
let base: string;

const answers: Record<string, unknown> = {
  'PUT /apps/web/forge': {
    app: 'web',
    forge: 'github',
    repo: 'https://github.com/o/web',
    branch: 'main',
    hasToken: true,
    webhook: { url: 'https://paas.example.com/hooks/github/web', contentType: 'application/json', events: ['push', 'pull_request'], secret: 's3cr3t' },
  },
  'DELETE /apps/web/forge?forge=gitlab': { app: 'web', forge: 'gitlab' },
  'GET /apps/web/previews': {
    previews: [{ number: 7, app: 'web-pr-7', commit: 'abcdef1234567', status: 'live', url: 'http://127.0.0.1:4100', updatedAt: '2026-12-01T08:00:00.000Z' }],
    skipped: [{ pr: 9, outcome: 'skipped', reason: 'pull request from a fork by a non-member', receivedAt: '2026-12-01T08:01:00.000Z' }],
  },
};

function captureIo() {
  const io = { stdout: '', stderr: '', out: (t: string) => void (io.stdout += t), err: (t: string) => void (io.stderr += t) };
  return io;
}

beforeAll(async () => {
  server = http.createServer((req, res) => {
    let text = '';
    req.on('data', (c) => (text += c));
    req.on('end', () => {
      seen.push({ method: req.method!, url: req.url!, body: text ? JSON.parse(text) : undefined });
      const answer = answers[`${req.method} ${req.url}`];
      res.writeHead(answer ? 200 : 404, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(answer ?? { error: 'no such endpoint' }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
});

afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe('github:connect, gitlab:disconnect, previews', () => {
  it('github:connect sends the repo and branch and prints the exact webhook settings', async () => {
    const io = captureIo();
    const code = await runCli(['github:connect', 'web', '--repo', 'https://github.com/o/web', '--branch', 'main', '--url', base, '--token', 't'], io);
    expect(code, io.stderr).toBe(0);
    expect(seen.at(-1)).toMatchObject({ method: 'PUT', url: '/apps/web/forge', body: { forge: 'github', repo: 'https://github.com/o/web', branch: 'main' } });
    expect(io.stdout).toMatch(/Payload URL:\s+https:\/\/paas\.example\.com\/hooks\/github\/web/);
    expect(io.stdout).toMatch(/Content type:\s+application\/json/);
    expect(io.stdout).toMatch(/Secret:\s+s3cr3t/);
    expect(io.stdout).toContain('Pushes, Pull requests');
  });

  it('reads the deploy token from stdin, never from an argument', async () => {
    const cmd = forgeCommands(() => Readable.from(['ghp_fromstdin\n']))[0]!;
    const io = captureIo();
    const ctx: CommandContext = {
      positionals: ['web'],
      flags: { repo: 'https://github.com/o/web', 'deploy-token-stdin': true },
      json: false,
      io,
      settings: () => ({ url: base, token: 't' }) as never,
      api: () => new ApiClient(base, 't'),
    };
    expect(await cmd.run(ctx)).toBe(0);
    expect(seen.at(-1)!.body).toEqual({ forge: 'github', repo: 'https://github.com/o/web', token: 'ghp_fromstdin' });
    expect(cmd.flags!.map((f) => f.name)).not.toContain('deploy-token');
  });

  it('github:connect without --repo is a usage error', async () => {
    const io = captureIo();
    expect(await runCli(['github:connect', 'web', '--url', base, '--token', 't'], io)).toBe(2);
    expect(io.stderr).toContain('needs --repo URL');
  });

  it('gitlab:disconnect names the forge', async () => {
    const io = captureIo();
    expect(await runCli(['gitlab:disconnect', 'web', '--url', base, '--token', 't'], io)).toBe(0);
    expect(seen.at(-1)).toMatchObject({ method: 'DELETE', url: '/apps/web/forge?forge=gitlab' });
    expect(io.stdout).toContain('Disconnected web from GitLab');
  });

  it('previews lists live previews and the pull requests that got none', async () => {
    const io = captureIo();
    expect(await runCli(['previews', 'web', '--url', base, '--token', 't'], io)).toBe(0);
    expect(io.stdout).toMatch(/#7\s+web-pr-7\s+live\s+abcdef1\s+http:\/\/127\.0\.0\.1:4100/);
    expect(io.stdout).toContain('#9 skipped');
    expect(io.stdout).toContain('fork by a non-member');
  });
});
