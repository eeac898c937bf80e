import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import http from 'node:http';
import type net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { startServer, type RunningServer } from '../../src/server.js';
import { gitHttpBackend } from '../helpers/git-http-server.js';

/**
 * The built CLI (`node dist/cli.js`) as a child process against a real server started in
 * this process, deploying a tiny node app from a git repo served over smart HTTP by
 * `git http-backend` (dumb HTTP can not serve the shallow clone the server makes).
 */

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CLI = path.join(ROOT, 'dist', 'cli.js');
const TOKEN = 'test-token';
const APP = `cli-${Math.random().toString(36).slice(2, 8)}`;

const FIXTURE: Record<string, string> = {
  'package.json': JSON.stringify({ name: 'cli-fixture', version: '1.0.0', private: true, scripts: { start: 'node server.js' } }, null, 2),
  'server.js': [
    "const http = require('http');",
    'http',
    '  .createServer((req, res) => {',
    "    console.log('served ' + req.url);",
    "    res.setHeader('content-type', 'application/json');",
    '    res.end(JSON.stringify({ greeting: process.env.GREETING === undefined ? null : process.env.GREETING }));',
    '  })',
    "  .listen(Number(process.env.PORT), () => console.log('cli-fixture listening on ' + process.env.PORT));",
    '',
  ].join('\n'),
};

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

let tmp: string;
let server: RunningServer;
let gitServer: http.Server;
let repoUrl: string;
let cliEnv: NodeJS.ProcessEnv;
let appUrl: string;

function exec(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<Result> {
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, maxBuffer: 64 << 20, timeout: 280_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

function cli(args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<Result> {
  return exec(process.execPath, [CLI, ...args], { cwd: opts.cwd ?? path.join(tmp, 'cwd'), env: { ...cliEnv, ...opts.env } });
}

const git = (args: string[], cwd: string): Promise<Result> =>
  exec('git', ['-c', 'user.email=cli@minpaas.test', '-c', 'user.name=CLI Test', ...args], { cwd });

/** GET on the app's public URL; the body parsed as JSON. */
function getJson(url: string): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: false, timeout: 5000 }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => {
        try {
          resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) });
        } catch {
          resolve({ status: res.statusCode ?? 0, body: text });
        }
      });
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url} timed out`)));
    req.on('error', reject);
  });
}

/** Resolves once `child`'s stdout contains `text` (rejects after `ms`). */
function waitForOutput(child: ChildProcess, seen: () => string, text: string, ms: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "${text}" within ${ms} ms; got: ${seen()}`)), ms);
    const check = (): void => {
      if (seen().includes(text)) {
        clearTimeout(timer);
        child.stdout?.off('data', check);
        resolve();
      }
    };
    child.stdout?.on('data', check);
    check();
  });
}

beforeAll(async () => {
  // The test runs the CLI the way users do: the compiled dist/cli.js.
  const build = await exec('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: ROOT });
  await fs.access(CLI).catch(() => {
    throw new Error(`npx tsc did not produce ${CLI}:\n${build.stdout}${build.stderr}`);
  });

  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'minpaas-cli-'));
  for (const dir of ['cwd', 'home', 'xdg', 'src', 'git', 'work']) await fs.mkdir(path.join(tmp, dir));

  // The app's source: a commit on main, pushed into a bare repo the git server serves.
  const src = path.join(tmp, 'src');
  await git(['init', '-q', '-b', 'main'], src);
  for (const [name, content] of Object.entries(FIXTURE)) await fs.writeFile(path.join(src, name), content);
  await git(['add', '.'], src);
  await git(['commit', '-q', '-m', 'cli fixture'], src);
  await git(['clone', '-q', '--bare', src, path.join(tmp, 'git', 'cli-fixture.git')], tmp);
  gitServer = gitHttpBackend(path.join(tmp, 'git'));
  await new Promise<void>((resolve) => gitServer.listen(0, '127.0.0.1', resolve));
  repoUrl = `http://127.0.0.1:${(gitServer.address() as net.AddressInfo).port}/cli-fixture.git`;

  server = await startServer(
    loadConfig({
      ...process.env,
      MINPAAS_DATA_DIR: path.join(tmp, 'data'),
      MINPAAS_PORT: '0',
      MINPAAS_HOST: '127.0.0.1',
      MINPAAS_TOKEN: TOKEN,
      MINPAAS_HEALTH_TIMEOUT: '20',
      MINPAAS_DRAIN_TIMEOUT: '10',
    }),
  );

  // The CLI sees only what a user's shell would set; nothing of this machine's MinPaas.
  cliEnv = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('MINPAAS_')));
  Object.assign(cliEnv, {
    HOME: path.join(tmp, 'home'),
    XDG_CONFIG_HOME: path.join(tmp, 'xdg'),
    MINPAAS_URL: server.url,
    MINPAAS_TOKEN: TOKEN,
    GIT_TERMINAL_PROMPT: '0',
  });
});

afterAll(async () => {
  if (server) {
    if (server.store.getApp(APP)) await server.apps.destroy(APP).catch(() => undefined);
    await server.router.stopProcess().catch(() => undefined);
    await server.close();
  }
  if (gitServer) await new Promise<void>((resolve) => gitServer.close(() => resolve()));
  if (tmp) await fs.rm(tmp, { recursive: true, force: true });
});

describe('minpaas CLI against a running server', () => {
  it('a wrong token: exit 1 with the API message', async () => {
    const r = await cli(['apps', '--token', 'wrong-token']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^minpaas: missing or wrong token/);
    expect(r.stderr).toContain('token from --token');
  });

  it('login checks the token, then saves URL and token (0600) for later commands', async () => {
    const bare = { MINPAAS_URL: '', MINPAAS_TOKEN: '' };
    const file = path.join(tmp, 'xdg', 'minpaas', 'config.json');

    const refused = await cli(['login', '--url', server.url, '--token', 'wrong-token'], { env: bare });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('refused this token');
    await expect(fs.access(file)).rejects.toThrow();

    const ok = await cli(['login', '--url', server.url, '--token', TOKEN], { env: bare });
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toContain(`Logged in to ${server.url}`);
    expect(JSON.parse(await fs.readFile(file, 'utf8'))).toEqual({ url: server.url, token: TOKEN });
    expect((await fs.stat(file)).mode & 0o777).toBe(0o600);

    const apps = await cli(['apps', '--json'], { env: bare });
    expect(apps.code, apps.stderr).toBe(0);
    expect(Array.isArray(JSON.parse(apps.stdout))).toBe(true);
  });

  it('deploy refuses without --runtime; a streamed API error is exit 1 with its message', async () => {
    const usage = await cli(['deploy', APP, '--repo', repoUrl]);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('--runtime');

    const bad = await cli(['deploy', 'Bad_Name', '--repo', repoUrl, '--runtime', 'node']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('minpaas: invalid app name "Bad_Name"');
  });

  it('deploy streams the build log while it runs and ends with the release and URL', async () => {
    const child = spawn(process.execPath, [CLI, 'deploy', APP, '--repo', repoUrl, '--runtime', 'node'], {
      cwd: path.join(tmp, 'cwd'),
      env: cliEnv,
    });
    let stdout = '';
    let stderr = '';
    let firstLogAt = 0;
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
      if (!firstLogAt && /Cloning/.test(stderr)) firstLogAt = Date.now();
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    const endedAt = Date.now();
    expect(code, stderr).toBe(0);
    expect(stderr).toContain(`Deploying ${APP} from ${repoUrl}`);
    expect(stderr).toContain(`Cloning ${repoUrl}`);
    expect(stderr.split('\n').length).toBeGreaterThan(5);
    // Progress arrived before the end, not all at once.
    expect(firstLogAt).toBeGreaterThan(0);
    expect(endedAt - firstLogAt).toBeGreaterThan(1000);
    expect(stdout).toMatch(new RegExp(`^Deployed ${APP} v1: http://`));
  });

  it('apps and apps:info: a table for people, JSON for scripts', async () => {
    const table = await cli(['apps']);
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout.split('\n')[0]).toMatch(/^NAME\s+RUNTIME\s+RELEASE\s+STATUS\s+URL$/);
    expect(table.stdout).toMatch(new RegExp(`^${APP}\\s+node\\s+v1\\s+\\S+\\s+http://`, 'm'));

    const list = JSON.parse((await cli(['apps', '--json'])).stdout) as { name: string }[];
    expect(list.map((a) => a.name)).toContain(APP);

    const info = await cli(['apps:info', APP, '--json']);
    expect(info.code, info.stderr).toBe(0);
    const record = JSON.parse(info.stdout) as { name: string; release: number; url: string; repo: string };
    expect(record).toMatchObject({ name: APP, release: 1, repo: repoUrl });
    appUrl = record.url;

    const text = await cli(['apps:info', APP]);
    expect(text.stdout).toContain(`Name:         ${APP}\n`);
    expect(text.stdout).toContain(`URL:          ${appUrl}\n`);
    expect(await getJson(appUrl)).toEqual({ status: 200, body: { greeting: null } });

    const missing = await cli(['apps:info', 'no-such-app']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe('minpaas: no app named no-such-app\n');
  });

  it('config:set, config and config:unset change what the app sees', async () => {
    const set = await cli(['config:set', APP, 'GREETING=hello=world', 'OTHER=x']);
    expect(set.code, set.stderr).toBe(0);
    expect(set.stderr).toContain(`Setting GREETING and OTHER on ${APP}…`);
    expect(set.stderr).toContain('done, v2');
    expect(set.stdout).toContain('GREETING:  hello=world\n');
    expect(await getJson(appUrl)).toEqual({ status: 200, body: { greeting: 'hello=world' } });

    const shown = await cli(['config', APP]);
    expect(shown.stdout).toBe('GREETING:  hello=world\nOTHER:     x\n');
    expect(JSON.parse((await cli(['config', APP, '--json'])).stdout)).toEqual({ GREETING: 'hello=world', OTHER: 'x' });

    const refused = await cli(['config:set', APP, 'PORT=1']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^minpaas: PORT is set by MinPaas/m);

    const unset = await cli(['config:unset', APP, 'GREETING']);
    expect(unset.code, unset.stderr).toBe(0);
    expect(unset.stderr).toContain('done, v3');
    expect(await getJson(appUrl)).toEqual({ status: 200, body: { greeting: null } });
    expect(JSON.parse((await cli(['config', APP, '--json'])).stdout)).toEqual({ OTHER: 'x' });
  });

  it('releases lists them newest first; rollback takes v2 or 1', async () => {
    const table = await cli(['releases', APP]);
    expect(table.code, table.stderr).toBe(0);
    const lines = table.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^VERSION\s+KIND\s+DESCRIPTION\s+CREATED$/);
    expect(lines.slice(1).map((l) => l.split(/\s+/).slice(0, 2).join(' '))).toEqual(['v3 config', 'v2 config', 'v1 build']);

    const back = await cli(['rollback', APP, 'v2']);
    expect(back.code, back.stderr).toBe(0);
    expect(back.stdout).toContain(`Rolled back ${APP} to v2; it now runs v4`);
    expect(await getJson(appUrl)).toEqual({ status: 200, body: { greeting: 'hello=world' } });

    const first = await cli(['rollback', APP, '1', '--json']);
    expect(first.code, first.stderr).toBe(0);
    expect(JSON.parse(first.stdout)).toMatchObject({ name: APP, release: 5 });
    expect(await getJson(appUrl)).toEqual({ status: 200, body: { greeting: null } });

    const releases = JSON.parse((await cli(['releases', APP, '--json'])).stdout) as { number: number; kind: string }[];
    expect(releases.slice(0, 2).map((r) => [r.number, r.kind])).toEqual([
      [5, 'rollback'],
      [4, 'rollback'],
    ]);

    const unknown = await cli(['rollback', APP, 'v99']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain(`minpaas: ${APP} has no release v99`);
  });

  it('resources:set changes the limits in place; resources shows them; bad sizes are exit 1', async () => {
    const set = await cli(['resources:set', APP, '--memory', '300m', '--cpus', '0.5']);
    expect(set.code, set.stderr).toBe(0);
    expect(set.stdout).toMatch(/Memory:\s+300m/);
    expect(set.stdout).toMatch(/CPUs:\s+0.5/);
    const shown = await cli(['resources', APP, '--json']);
    expect(JSON.parse(shown.stdout).resources).toEqual({ memory: '300m', cpus: 0.5 });
    const back = await cli(['resources:set', APP, '--memory', 'default']);
    expect(back.stdout).toMatch(/Memory:\s+512m/);
    const bad = await cli(['resources:set', APP, '--memory', 'lots']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('minpaas: size "lots" is not a size');
    expect((await cli(['resources:set', APP])).code).toBe(2);
  });

  it("logs shows the app's output", async () => {
    const r = await cli(['logs', APP, '-n', '50']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('cli-fixture listening on');
  });

  it('logs -f streams new lines until interrupted', async () => {
    const child = spawn(process.execPath, [CLI, 'logs', APP, '-f', '-n', '5'], { cwd: path.join(tmp, 'cwd'), env: cliEnv });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
    try {
      const marker = `/follow-${Date.now()}`;
      // Keep asking until the line shows up: the stream may attach just after a request.
      const poll = setInterval(() => void getJson(`${appUrl}${marker}`).catch(() => undefined), 500);
      try {
        await waitForOutput(child, () => stdout, `served ${marker}`, 20_000);
      } finally {
        clearInterval(poll);
      }
      child.kill('SIGINT');
      expect(await closed, stderr).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });

  it('git:remote prints the remote URL and adds or updates it inside a work tree', async () => {
    const port = new URL(server.url).port;
    const expected = `http://x:${TOKEN}@127.0.0.1:${port}/${APP}.git`;

    const printed = await cli(['git:remote', APP]);
    expect(printed.code, printed.stderr).toBe(0);
    expect(printed.stdout).toBe(`${expected}\n`);

    const work = path.join(tmp, 'work');
    await git(['init', '-q', '-b', 'main'], work);
    const added = await cli(['git:remote', APP], { cwd: work });
    expect(added.code, added.stderr).toBe(0);
    expect(added.stderr).toContain('Added git remote minpaas');
    expect((await git(['remote', 'get-url', 'minpaas'], work)).stdout.trim()).toBe(expected);

    const updated = await cli(['git:remote', APP, '--token', 'rotated', '--json'], { cwd: work });
    expect(JSON.parse(updated.stdout)).toMatchObject({ remote: 'minpaas', action: 'updated' });
    expect((await git(['remote', 'get-url', 'minpaas'], work)).stdout.trim()).toBe(expected.replace(TOKEN, 'rotated'));

    const named = await cli(['git:remote', APP, '--name', 'paas'], { cwd: work });
    expect(named.code, named.stderr).toBe(0);
    expect((await git(['remote', 'get-url', 'paas'], work)).stdout.trim()).toBe(expected);

    // The remote works: pushing main through it deploys a new release.
    for (const [name, content] of Object.entries(FIXTURE)) await fs.writeFile(path.join(work, name), content);
    await git(['add', '.'], work);
    await git(['commit', '-q', '-m', 'pushed through the CLI remote'], work);
    const push = await exec('git', ['push', 'paas', 'main'], { cwd: work, env: { ...cliEnv, GIT_TERMINAL_PROMPT: '0' } });
    expect(push.code, push.stderr).toBe(0);
    expect(push.stderr).toContain('Released v6');
  });

  it('apps:destroy needs --confirm APP, then removes the app', async () => {
    const refused = await cli(['apps:destroy', APP]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`--confirm ${APP}`);
    const mismatch = await cli(['apps:destroy', APP, '--confirm', 'other-app']);
    expect(mismatch.code).toBe(1);
    expect(server.store.getApp(APP)).toBeTruthy();

    const done = await cli(['apps:destroy', APP, '--confirm', APP]);
    expect(done.code, done.stderr).toBe(0);
    expect(done.stdout).toBe(`Destroyed ${APP}.\n`);
    expect(server.store.getApp(APP)).toBeFalsy();
    const gone = await cli(['apps:info', APP]);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toContain(`no app named ${APP}`);
  });
});
