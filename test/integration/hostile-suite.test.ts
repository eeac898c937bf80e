import fs from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppRepo, run } from '../helpers/git.js';
import { gitHttpBackend } from '../helpers/git-http-server.js';
import { eventually, httpGet } from '../helpers/http.js';
import { startTestServer, TEST_TOKEN, uniqueName, type TestServer } from '../helpers/server.js';

// The hostile review of issue 7, replayed: git endpoints, every API route, config values,
// limits, repo URLs with credentials, pushed repository contents (symlinks, huge files,
// tag and tree objects), and log streams. Each case asserts its exact status and that
// nothing was created or leaked; after each group the server still answers, and its
// memory, open files and git child processes are back to where they were.

const APP = uniqueName('hs');
const CRED = uniqueName('hs-cred');
const NEW = uniqueName('hs-new');
const SECRET_PW = `pw-${Math.random().toString(36).slice(2)}`;
const PROBE = `PROBE-${Math.random().toString(36).slice(2)}`;
const BASIC = `Basic ${Buffer.from(`x:${TEST_TOKEN}`).toString('base64')}`;
const ZERO = '0'.repeat(40);

let t: TestServer;
let repo: AppRepo;
let authGit: http.Server;
let gitRoot: string;
let credUrl: string;
let baseline: { fds: number; rss: number; gitChildren: number };
const scratch: AppRepo[] = [];

/** A node app with endpoints that print a lot and fork a lot. */
function hostileApp(message: string): Record<string, string> {
  return {
    'package.json': JSON.stringify({ name: 'hs', version: '1.0.0', scripts: { start: 'node server.js' } }),
    'server.js': `const http = require('http');
const { spawn } = require('child_process');
http.createServer((req, res) => {
  const url = new URL(req.url, 'http://x');
  if (url.pathname === '/spam') {
    const line = 'spam '.repeat(200) + '\\n';
    const kb = Number(url.searchParams.get('kb'));
    for (let i = 0; i < kb; i++) process.stdout.write(i + ' ' + line);
    console.log('spam done ' + url.searchParams.get('tag'));
    return res.end('spammed\\n');
  }
  if (url.pathname === '/fork') {
    let ok = 0, failed = 0, pending = Number(url.searchParams.get('n'));
    const children = [];
    const done = () => { if (--pending === 0) { children.forEach((c) => c.kill()); res.end(JSON.stringify({ ok, failed })); } };
    for (let i = Number(pending); i > 0; i--) {
      const c = spawn('sleep', ['20']);
      children.push(c);
      c.on('spawn', () => { ok++; done(); });
      c.on('error', () => { failed++; done(); });
    }
    return;
  }
  res.end(${JSON.stringify(message)} + '\\n');
}).listen(Number(process.env.PORT), () => console.log('booted ${message}'));
`,
  };
}

// ---------------------------------------------------------------------------------------
// helpers

interface Reply {
  status: number;
  text: string;
  json: any;
}

async function api(method: string, pathname: string, body?: unknown, headers: Record<string, string> | null = { authorization: `Bearer ${TEST_TOKEN}` }): Promise<Reply> {
  const res = await fetch(`${t.url}${pathname}`, {
    method,
    headers: { ...(headers ?? {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
    signal: AbortSignal.timeout(240_000),
  });
  const text = await res.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, text, json };
}

/** A raw HTTP/1.1 exchange over a socket: `head` is the request line and headers. */
function rawRequest(head: string, body: Buffer = Buffer.alloc(0), opts: { abortAfterWrite?: boolean; timeoutMs?: number } = {}): Promise<{ status: number; text: string; dropped: boolean }> {
  return new Promise((resolve) => {
    const socket = net.connect(t.server.port, '127.0.0.1');
    let data = '';
    const finish = (): void => {
      clearTimeout(timer);
      const m = /^HTTP\/1\.1 (\d{3})/.exec(data);
      resolve({ status: m ? Number(m[1]) : 0, text: data, dropped: !m });
    };
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ status: -1, text: data, dropped: false });
    }, opts.timeoutMs ?? 20_000);
    socket.on('data', (c) => (data += c.toString('latin1')));
    socket.on('error', () => undefined);
    socket.on('close', finish);
    socket.write(`${head}\r\n\r\n`);
    socket.write(body, () => {
      if (opts.abortAfterWrite) setTimeout(() => socket.destroy(), 20);
    });
  });
}

/** A request to the git remote with node:http (body sent in full). */
function gitPost(pathname: string, body: Buffer, headers: Record<string, string> = {}): Promise<{ status: number; text: string }> {
  return new Promise((resolve) => {
    const req = http.request(
      { host: '127.0.0.1', port: t.server.port, method: 'POST', path: pathname, agent: false, timeout: 20_000, headers: { authorization: BASIC, ...headers } },
      (res) => {
        let text = '';
        res.setEncoding('latin1');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
        res.on('error', () => resolve({ status: res.statusCode ?? 0, text }));
      },
    );
    req.on('timeout', () => {
      req.destroy();
      resolve({ status: -1, text: 'timed out' });
    });
    req.on('error', (err) => resolve({ status: 0, text: err.message }));
    req.end(body);
  });
}

const pkt = (text: string): string => `${(text.length + 4).toString(16).padStart(4, '0')}${text}`;

function openFds(): Promise<number> {
  return fs.readdir('/proc/self/fd').then((l) => l.length);
}

async function gitChildren(): Promise<number> {
  const r = await run('ps', ['--ppid', String(process.pid), '-o', 'comm=']);
  return r.stdout.split('\n').filter((c) => /^git/.test(c.trim())).length;
}

/** Follow-mode log requests from this process to the Docker engine (see api.test.ts). */
function dockerLogFollows(): number {
  const handles = (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles();
  return handles.filter((h) => {
    if (!(h instanceof net.Socket) || h.destroyed) return false;
    const request = (h as unknown as { _httpMessage?: { path?: unknown } | null })._httpMessage;
    return /\/containers\/[^/]+\/logs\?.*follow=(true|1)/.test(String(request?.path ?? ''));
  }).length;
}

const list = (dir: string): Promise<string[]> => fs.readdir(dir).then((n) => n.sort(), () => []);

/** What a refused request must leave as it was. */
async function state(): Promise<unknown> {
  const store = t.server.store;
  return {
    apps: store.listApps().map((a) => [a.name, a.release, a.container, a.memoryLimit, a.cpuLimit]),
    env: store.getEnv(APP),
    releases: store.listReleases(APP).map((r) => r.number),
    main: (await run('git', ['--git-dir', path.join(t.dataDir, 'repos', `${APP}.git`), 'rev-parse', 'main'])).stdout.trim(),
    containers: (await t.docker.listOwnedContainers()).map((c) => `${c.name} ${c.id} ${c.running}`).sort(),
    images: (await t.docker.listOwnedImages()).map((i) => i.id).sort(),
    repos: await list(path.join(t.dataDir, 'repos')),
    workspaces: await list(path.join(t.dataDir, 'workspaces')),
    dataDir: await list(t.dataDir),
    newApp: store.getApp(NEW) ?? null,
  };
}

/** After each group: the server answers; memory, open files and git processes are back to normal. */
async function assertRecovered(): Promise<void> {
  expect((await api('GET', '/healthz', undefined, null)).status).toBe(200);
  await eventually(async () => {
    expect(await gitChildren()).toBeLessThanOrEqual(baseline.gitChildren);
    expect(await openFds()).toBeLessThanOrEqual(baseline.fds + 30);
    expect(dockerLogFollows()).toBe(0);
    expect(t.docker.openLogStreamCount).toBe(0);
  }, 30_000, 200);
  expect(process.memoryUsage().rss).toBeLessThan(baseline.rss + 400 * 1024 * 1024);
}

async function scratchRepo(files: Record<string, string>, links: Record<string, string> = {}): Promise<AppRepo> {
  const r = await AppRepo.create(files);
  scratch.push(r);
  for (const [name, target] of Object.entries(links)) {
    await fs.mkdir(path.dirname(path.join(r.dir, name)), { recursive: true });
    await fs.symlink(target, path.join(r.dir, name));
  }
  if (Object.keys(links).length) await r.commit({}, 'links');
  return r;
}

// ---------------------------------------------------------------------------------------

beforeAll(async () => {
  t = await startTestServer({
    MINPAAS_PIDS_LIMIT: '64',
    MINPAAS_LOG_MAX_SIZE: '2m',
    MINPAAS_LOG_MAX_FILES: '3',
    MINPAAS_MAX_PUSH_SIZE: '4m',
  });
  await fs.writeFile(path.join(t.dataDir, 'probe-secret'), `${PROBE}\n`);
  repo = await AppRepo.create(hostileApp('hs v1'));
  const push = await repo.push(t.remote(APP));
  expect(push.code, push.output).toBe(0);

  // A git server that wants HTTP Basic auth: the credentials must reach it, as a header.
  gitRoot = await fs.mkdtemp(path.join(os.tmpdir(), 'minpaas-hs-git-'));
  const backend = gitHttpBackend(gitRoot);
  const expected = `Basic ${Buffer.from(`deployer:${SECRET_PW}`).toString('base64')}`;
  authGit = http.createServer((req, res) => {
    if (req.headers.authorization !== expected) {
      res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="test"' });
      res.end();
      return;
    }
    backend.emit('request', req, res);
  });
  await new Promise<void>((resolve) => authGit.listen(0, '127.0.0.1', resolve));
  const port = (authGit.address() as net.AddressInfo).port;
  const bare = path.join(gitRoot, 'cred.git');
  expect((await run('git', ['init', '-q', '--bare', '--initial-branch=main', bare])).code).toBe(0);
  expect((await repo.push(bare, 'main')).code).toBe(0);
  credUrl = `http://deployer:${SECRET_PW}@127.0.0.1:${port}/cred.git`;
  const deployed = await api('POST', '/deploy', { app: CRED, runtime: 'node', repo: credUrl });
  expect(deployed.status, deployed.text).toBe(200);

  baseline = { fds: await openFds(), rss: process.memoryUsage().rss, gitChildren: await gitChildren() };
});

afterAll(async () => {
  await t?.cleanup();
  await repo?.remove();
  for (const r of scratch) await r.remove();
  authGit?.closeAllConnections();
  await new Promise<void>((resolve) => (authGit ? authGit.close(() => resolve()) : resolve()));
  if (gitRoot) await fs.rm(gitRoot, { recursive: true, force: true });
});

// ---------------------------------------------------------------------------------------

describe('git endpoints (items 1, 9)', () => {
  let before: unknown;
  beforeAll(async () => {
    before = await state();
  });

  const oldNew = (): string => `${ZERO} ${'1'.repeat(40)} refs/heads/main\0 report-status\n`;

  // Aborted uploads: the client declares more than it sends, then goes away.
  const aborted: [string, string, () => Buffer][] = [
    ['receive-pack, 5 bytes of 1000', 'git-receive-pack', () => Buffer.from('00000')],
    ['receive-pack, no byte of 1000', 'git-receive-pack', () => Buffer.alloc(0)],
    ['receive-pack, a command and half a pack', 'git-receive-pack', () => Buffer.from(`${pkt(oldNew())}0000PACK\0\0\0\u0002`)],
    ['upload-pack, 5 bytes of 1000', 'git-upload-pack', () => Buffer.from('0032w')],
    ['upload-pack, a want line of 1000', 'git-upload-pack', () => Buffer.from(pkt(`want ${'a'.repeat(40)}\n`))],
    ['upload-pack, no byte of 1000', 'git-upload-pack', () => Buffer.alloc(0)],
  ];
  it.each(aborted)('aborted POST %s: the connection goes, the server stays', async (_what, service, body) => {
    const res = await rawRequest(
      `POST /${APP}.git/${service} HTTP/1.1\r\nHost: x\r\nAuthorization: ${BASIC}\r\nContent-Type: application/x-${service}-request\r\nContent-Length: 1000`,
      body(),
      { abortAfterWrite: true },
    );
    expect(res.status).not.toBe(-1);
    expect((await api('GET', '/healthz', undefined, null)).status).toBe(200);
  });

  // Bodies that are not git's pkt-line protocol: a 400, not a hang.
  const garbage: [string, string, Buffer][] = [
    ['32 KB of random bytes to receive-pack', 'git-receive-pack', Buffer.from(Array.from({ length: 32 * 1024 }, (_, i) => (i * 7919) % 251))],
    ['1 MB of zeros to receive-pack', 'git-receive-pack', Buffer.alloc(1 << 20)],
    ['100 KB of "A" to upload-pack', 'git-upload-pack', Buffer.alloc(100 * 1024, 'A')],
    ['a JSON body to receive-pack', 'git-receive-pack', Buffer.from(JSON.stringify({ x: 'y'.repeat(20_000) }))],
    ['20 KB of text to upload-pack', 'git-upload-pack', Buffer.alloc(20 * 1024, 'hello ')],
  ];
  it.each(garbage)('%s → 400', async (_what, service, body) => {
    const res = await gitPost(`/${APP}.git/${service}`, body);
    expect(res.status, res.text).toBe(400);
    expect(res.text).toMatch(/not git pkt-line/);
  });

  it('a body declared gzip that is not → 400', async () => {
    const res = await gitPost(`/${APP}.git/git-upload-pack`, Buffer.from('definitely not gzip'), { 'content-encoding': 'gzip' });
    expect(res.status, res.text).toBe(400);
    expect(res.text).toMatch(/not valid gzip/);
  });
  it('a gzip body of garbage → 400', async () => {
    const res = await gitPost(`/${APP}.git/git-upload-pack`, zlib.gzipSync(Buffer.alloc(64 * 1024, 'Z')), { 'content-encoding': 'gzip' });
    expect(res.status, res.text).toBe(400);
  });
  it('a valid gzip fetch request (git gzips large negotiations) still gets its pack', async () => {
    const main = (await run('git', ['--git-dir', path.join(t.dataDir, 'repos', `${APP}.git`), 'rev-parse', 'main'])).stdout.trim();
    const body = zlib.gzipSync(Buffer.from(`${pkt(`want ${main} ofs-delta\n`)}0000${pkt('done\n')}`));
    const res = await gitPost(`/${APP}.git/git-upload-pack`, body, { 'content-encoding': 'gzip', 'content-type': 'application/x-git-upload-pack-request' });
    expect(res.status).toBe(200);
    expect(res.text).toContain('PACK');
  });
  it('an encoding git never sends → 400', async () => {
    const res = await gitPost(`/${APP}.git/git-upload-pack`, Buffer.from('x'), { 'content-encoding': 'br' });
    expect(res.status, res.text).toBe(400);
  });
  it('a pkt-line push of refs/notes → refused in-band, not hung', async () => {
    const res = await gitPost(`/${APP}.git/git-receive-pack`, Buffer.from(`${pkt(`${ZERO} ${'1'.repeat(40)} refs/notes/x\0 report-status\n`)}0000`));
    expect(res.status).toBe(200);
    expect(res.text).toMatch(/only branches/);
  });

  const paths: [string, string, string, Record<string, string>, number][] = [
    ['dumb-protocol HEAD', 'GET', `/${APP}.git/HEAD`, { authorization: BASIC }, 404],
    ['a loose object path', 'GET', `/${APP}.git/objects/info/packs`, { authorization: BASIC }, 404],
    ['the repo config', 'GET', `/${APP}.git/config`, { authorization: BASIC }, 404],
    ['info/refs without service', 'GET', `/${APP}.git/info/refs`, { authorization: BASIC }, 400],
    ['info/refs of an unknown service', 'GET', `/${APP}.git/info/refs?service=git-foo`, { authorization: BASIC }, 405],
    ['upload-pack info/refs of an unknown app', 'GET', `/${NEW}.git/info/refs?service=git-upload-pack`, { authorization: BASIC }, 404],
    // A first push's POST creates the repo; an empty body is no pack (400) and the repo goes again.
    ['receive-pack POST with no pack to an unknown app', 'POST', `/${NEW}.git/git-receive-pack`, { authorization: BASIC }, 400],
    ['no credentials', 'POST', `/${APP}.git/git-receive-pack`, {}, 401],
    ['a Bearer token on git', 'GET', `/${APP}.git/info/refs?service=git-upload-pack`, { authorization: `Bearer ${TEST_TOKEN}` }, 401],
    ['a wrong password', 'GET', `/${APP}.git/info/refs?service=git-receive-pack`, { authorization: `Basic ${Buffer.from('x:nope').toString('base64')}` }, 401],
    ['a name with ..', 'GET', '/%2E%2E.git/info/refs?service=git-upload-pack', { authorization: BASIC }, 400],
    ['an uppercase name', 'GET', '/BAD.git/info/refs?service=git-upload-pack', { authorization: BASIC }, 400],
    ['a 300-character name', 'GET', `/${'a'.repeat(300)}.git/info/refs?service=git-upload-pack`, { authorization: BASIC }, 400],
  ];
  it.each(paths)('%s → exact status', async (_what, method, pathname, headers, status) => {
    const res = await new Promise<number>((resolve) => {
      const req = http.request({ host: '127.0.0.1', port: t.server.port, method, path: pathname, headers, agent: false }, (r) => {
        r.resume();
        r.on('end', () => resolve(r.statusCode ?? 0));
      });
      req.on('error', () => resolve(0));
      req.end();
    });
    expect(res).toBe(status);
  });

  it('nothing was created, and the server recovered', async () => {
    expect(await state()).toEqual(before);
    await assertRecovered();
  });
});

describe('pushed repository contents (items 2, 9)', () => {
  let before: unknown;
  beforeAll(async () => {
    before = await state();
  });

  const refused: [string, () => Promise<AppRepo>, RegExp][] = [
    ['package.json a symlink to /etc/passwd', () => scratchRepo({ 'server.js': '' }, { 'package.json': '/etc/passwd' }), /"package.json" is a symlink that points outside/],
    ['a chain of relative symlinks to a file of the data dir', () => scratchRepo({ 'server.js': '' }, { 'sub/up': '..', 'sub/up2': 'up/..', 'package.json': 'sub/up2/../probe-secret' }), /"package.json" is a symlink/],
    ['server.js a symlink to /etc/shadow', () => scratchRepo({ 'package.json': hostileApp('x')['package.json']! }, { 'server.js': '/etc/shadow' }), /"server.js" is a symlink/],
    ['a symlink deep in a folder to the host', () => scratchRepo(hostileApp('x'), { 'lib/deep/host': '/etc/hostname' }), /"lib\/deep\/host" is a symlink/],
    ['a dangling symlink out of the tree', () => scratchRepo(hostileApp('x'), { 'gone': '../../../nowhere' }), /"gone" is a symlink/],
    ['a 2 MB package.json', () => scratchRepo({ 'package.json': JSON.stringify({ scripts: { start: 'node server.js' }, pad: 'x'.repeat(2 << 20) }), 'server.js': '' }), /larger than 1024 KiB/],
    ['a package.json that is not JSON', () => scratchRepo({ 'package.json': 'root:x:0:0:root:/root:/bin/bash\n', 'server.js': '' }), /could not parse package.json: invalid JSON/],
  ];
  it.each(refused)('a push with %s is refused before the build and shows no host file', async (_what, make, message) => {
    const r = await make();
    const push = await r.push(t.remote(APP), 'main', '--force');
    expect(push.code, push.output).not.toBe(0);
    expect(push.output).toMatch(message);
    expect(push.output).not.toMatch(/root:x:0:0|root:\*:|PROBE-/);
    expect(push.output).not.toMatch(/Building image/);
  });

  it('a push bigger than MINPAAS_MAX_PUSH_SIZE is refused', async () => {
    const random = Buffer.from(Array.from({ length: 6 << 20 }, () => Math.floor(Math.random() * 256))).toString('base64');
    const r = await scratchRepo({ ...hostileApp('big'), 'blob.txt': random });
    const push = await r.push(t.remote(APP), 'main', '--force');
    expect(push.code, push.output).not.toBe(0);
  });

  it('an annotated tag pushed to refs/heads/main is refused before the build', async () => {
    const r = await scratchRepo(hostileApp('tag to main'));
    await r.git('tag', '-a', 'v1', '-m', 'a tag object');
    const push = await r.push(t.remote(APP), 'v1:refs/heads/main', '--force');
    expect(push.code, push.output).not.toBe(0);
    expect(push.output).toMatch(/main must point at a commit, but [0-9a-f]{7} is a tag object/);
    expect(push.output).not.toMatch(/Building image|Released/);
  });

  it('an annotated tag pushed to another branch is refused too', async () => {
    const r = await scratchRepo(hostileApp('tag to a branch'));
    await r.git('tag', '-a', 'v2', '-m', 'a tag object');
    const push = await r.push(t.remote(APP), 'v2:refs/heads/feature', '--force');
    expect(push.code, push.output).not.toBe(0);
    expect(push.output).toMatch(/feature must point at a commit/);
  });

  it('a tree object pushed to a branch is refused', async () => {
    const r = await scratchRepo(hostileApp('tree'));
    const tree = (await r.git('rev-parse', 'HEAD^{tree}')).stdout.trim();
    const push = await r.push(t.remote(APP), `${tree}:refs/heads/treeish`, '--force');
    expect(push.code, push.output).not.toBe(0);
  });

  it('deleting main is refused', async () => {
    const push = await repo.push(t.remote(APP), ':main');
    expect(push.code, push.output).not.toBe(0);
  });

  it('POST /deploy of a repo whose package.json links to /etc/passwd → 422 without its content', async () => {
    const r = await scratchRepo({ 'server.js': '' }, { 'package.json': '/etc/passwd' });
    expect((await r.push(path.join(gitRoot, 'cred.git'), 'main:evil', '--force')).code).toBe(0);
    const res = await api('POST', '/deploy', { app: CRED, runtime: 'node', repo: credUrl, branch: 'evil' });
    expect(res.status, res.text).toBe(422);
    expect(res.json.error).toMatch(/"package.json" is a symlink that points outside/);
    expect(res.text).not.toMatch(/root:x:0:0/);
    expect(res.text).not.toContain(SECRET_PW);
  });

  it('nothing went live or was created, the app still serves v1, and the server recovered', async () => {
    const after = (await state()) as Record<string, unknown>;
    expect(after).toEqual(before);
    expect((await httpGet(t.server.store.getApp(APP)!.port))?.body).toBe('hs v1\n');
    await assertRecovered();
  });
});

describe('every API route (items 4, 11)', () => {
  let before: unknown;
  beforeAll(async () => {
    before = await state();
  });

  const routes: [string, string, unknown?][] = [
    ['GET', '/apps'],
    ['POST', '/deploy', { app: NEW, runtime: 'node', repo: 'http://127.0.0.1:9/x.git' }],
    ['GET', `/apps/${APP}`],
    ['DELETE', `/apps/${APP}`],
    ['GET', `/apps/${APP}/logs?tail=5`],
    ['GET', `/apps/${APP}/logs?follow=1`],
    ['GET', `/apps/${APP}/config`],
    ['PATCH', `/apps/${APP}/config`, { GREETING: 'pwned' }],
    ['PATCH', `/apps/${APP}/resources`, { memory: '1g' }],
    ['GET', `/apps/${APP}/releases`],
    ['POST', `/apps/${APP}/rollback`, { release: 1 }],
    ['GET', `/apps/${APP}/deploys`],
    ['GET', `/apps/${APP}/deploys/1/log`],
    ['GET', '/no-such-endpoint'],
  ];
  const wrong: [string, Record<string, string> | null][] = [
    ['no token', null],
    ['a wrong token', { authorization: 'Bearer wrong' }],
    ['the token plus a suffix', { authorization: `Bearer ${TEST_TOKEN}x` }],
    ['Basic auth', { authorization: BASIC }],
    ['an 8 KB token', { authorization: `Bearer ${'t'.repeat(8192)}` }],
  ];
  const unauthorised = routes.flatMap(([method, pathname, body]) =>
    wrong.map(([what, headers]) => [`${method} ${pathname} with ${what}`, method, pathname, body, headers] as const),
  );
  it.each(unauthorised)('%s → 401', async (_what, method, pathname, body, headers) => {
    const res = await api(method, pathname, body, headers);
    expect(res.status, res.text).toBe(401);
    expect(res.json?.error).toMatch(/token/);
  });

  it('the token in the query string does not authenticate', async () => {
    expect((await api('GET', `/apps?token=${TEST_TOKEN}`, undefined, null)).status).toBe(401);
  });

  const unparseable = ['//[', '//:99999', '//x:y', '//[::1', 'http://[', '//%zz', '//a@'];
  it.each(unparseable.flatMap((u) => [[u, 'without a token', ''] as const, [u, 'with the token', `\r\nAuthorization: Bearer ${TEST_TOKEN}`] as const]))(
    'unparseable URL %s %s → 400, not 500',
    async (url, _what, auth) => {
      const res = await rawRequest(`GET ${url} HTTP/1.1\r\nHost: x\r\nConnection: close${auth}`);
      expect(res.status, res.text).toBe(400);
      expect(res.text).toMatch(/cannot be parsed/);
    },
  );

  const methods: [string, string, number][] = [
    ['PUT', '/apps', 405],
    ['DELETE', '/deploy', 405],
    ['POST', `/apps/${APP}/config`, 405],
    ['PATCH', `/apps/${APP}/releases`, 405],
  ];
  it.each(methods)('%s %s → %i', async (method, pathname, status) => {
    expect((await api(method, pathname)).status).toBe(status);
  });

  it('nothing was created or changed, and the server recovered', async () => {
    expect(await state()).toEqual(before);
    await assertRecovered();
  });
});

describe('config values and limits (items 7, 11)', () => {
  let before: unknown;
  beforeAll(async () => {
    before = await state();
  });
  const hostCpus = os.cpus().length;
  const hostMemG = Math.ceil(os.totalmem() / 1024 ** 3);

  const config: [string, unknown, RegExp][] = [
    ['a NUL byte in a value', { A: 'x\u0000y' }, /NUL/],
    ['a value that is only NUL', { A: '\u0000' }, /NUL/],
    ['a NUL byte in a name', { 'A\u0000B': 'x' }, /invalid config var name/],
    ['a value over 32 KiB', { A: 'x'.repeat(32 * 1024 + 1) }, /too long/],
    ['a number value', { A: 12 }, /must be a string/],
    ['PORT', { PORT: '1' }, /PORT is set by MinPaas/],
  ];
  it.each(config)('PATCH config with %s → 400', async (_what, body, message) => {
    const res = await api('PATCH', `/apps/${APP}/config`, body);
    expect(res.status, res.text).toBe(400);
    expect(res.json.error).toMatch(message);
  });
  it('POST /deploy with a NUL byte in env → 400, and no app', async () => {
    const res = await api('POST', '/deploy', { app: NEW, runtime: 'node', repo: 'http://127.0.0.1:9/x.git', env: { A: 'a\u0000b' } });
    expect(res.status, res.text).toBe(400);
    expect(res.json.error).toMatch(/NUL/);
  });

  const resources: [string, unknown, RegExp][] = [
    [`cpus ${hostCpus + 1} (more than the host)`, { cpus: hostCpus + 1 }, /more than this host has/],
    ['cpus 1024', { cpus: 1024 }, /more than this host has/],
    ['cpus "abc"', { cpus: 'abc' }, /not a number/],
    ['cpus -1', { cpus: -1 }, /not a number/],
    ['cpus true', { cpus: true }, /cpus must be/],
    ['memory that overflows int64', { memory: '99999999999999999999' }, /too large/],
    ['memory 99999999999g', { memory: '99999999999g' }, /too large/],
    [`memory ${hostMemG + 1}g (more than the host)`, { memory: `${hostMemG + 1}g` }, /more than this host has/],
    ['memory 5m (under Docker\'s minimum)', { memory: '5m' }, /too small/],
    ['memory "1t"', { memory: '1t' }, /not a size/],
    ['memory {}', { memory: {} }, /memory must be/],
    ['an unknown resource', { disk: '1g' }, /unknown resource/],
    ['an empty body', {}, /give "memory"/],
  ];
  it.each(resources)('PATCH resources with %s → 400 before Docker is asked', async (_what, body, message) => {
    const res = await api('PATCH', `/apps/${APP}/resources`, body);
    expect(res.status, res.text).toBe(400);
    expect(res.json.error).toMatch(message);
  });

  it('nothing changed, and the server recovered', async () => {
    expect(await state()).toEqual(before);
    await assertRecovered();
  });

  it('memory "none" and cpus "none" are applied in place (were a 500), and null restores the defaults', async () => {
    const container = t.server.store.getApp(APP)!.container!;
    const id = (await t.docker.inspect(container))!.id;
    const lifted = await api('PATCH', `/apps/${APP}/resources`, { memory: 'none', cpus: 'none' });
    expect(lifted.status, lifted.text).toBe(200);
    expect(lifted.json.resources).toEqual({ memory: 'none', cpus: null });
    const inspect = JSON.parse((await run('docker', ['inspect', container])).stdout)[0];
    expect(inspect.HostConfig.Memory).toBeGreaterThanOrEqual(os.totalmem() * 0.9);
    const restored = await api('PATCH', `/apps/${APP}/resources`, { memory: null, cpus: null });
    expect(restored.status, restored.text).toBe(200);
    expect((await t.docker.inspect(container))!.id).toBe(id);
    expect((await t.docker.inspect(container))!.running).toBe(true);
  });
});

describe('repo URLs with credentials (item 5)', () => {
  it('the app record shows the URL with its user-info redacted', async () => {
    const res = await api('GET', `/apps/${CRED}`);
    expect(res.json.repo).toBe(credUrl.replace(/\/\/[^@]+@/, '//***@'));
    expect((await api('GET', '/apps')).text).not.toContain(SECRET_PW);
  });

  it('the deploy log and history show no secret', async () => {
    const deploys = (await api('GET', `/apps/${CRED}/deploys`)).json as { id: number }[];
    expect(deploys.length).toBeGreaterThan(0);
    for (const d of deploys) {
      const log = await api('GET', `/apps/${CRED}/deploys/${d.id}/log`);
      expect(log.text).not.toContain(SECRET_PW);
    }
    const first = await api('GET', `/apps/${CRED}/deploys/${deploys.at(-1)!.id}/log`);
    expect(first.text).toMatch(/Cloning http:\/\/\*\*\*@127\.0\.0\.1/);
  });

  it('SQLite, the workspace and its .git/config hold no secret', async () => {
    for (const file of ['minpaas.db', 'minpaas.db-wal']) {
      const bytes = await fs.readFile(path.join(t.dataDir, file)).catch(() => Buffer.alloc(0));
      expect(bytes.includes(Buffer.from(SECRET_PW)), file).toBe(false);
    }
    const grep = await run('grep', ['-r', '-l', SECRET_PW, path.join(t.dataDir, 'workspaces')]);
    expect(grep.stdout).toBe('');
    const config = await fs.readFile(path.join(t.dataDir, 'workspaces', CRED, '.git', 'config'), 'utf8');
    expect(config).toMatch(/url = http:\/\/127\.0\.0\.1:\d+\/cred\.git/);
  });

  const failing: [string, () => string, number][] = [
    ['a wrong password', () => credUrl.replace(SECRET_PW, `${SECRET_PW}-wrong`), 422],
    ['no credentials at all', () => credUrl.replace(/\/\/[^@]+@/, '//'), 422],
    ['credentials on a refused scheme', () => credUrl.replace('http:', 'ftp:'), 400],
    ['credentials in an unparseable URL', () => `http://deployer:${SECRET_PW}@[127.0.0.1/cred.git`, 400],
  ];
  it.each(failing)('a deploy with %s fails without showing the secret', async (_what, url, status) => {
    const before = t.server.store.getApp(CRED)!.release;
    const res = await api('POST', '/deploy', { app: CRED, runtime: 'node', repo: url() });
    expect(res.status, res.text).toBe(status);
    expect(res.text).not.toContain(SECRET_PW);
    expect(t.server.store.getApp(CRED)!.release).toBe(before);
  });
});

describe('the data dir (item 6)', () => {
  it('every file and folder in it is the server user\'s alone', async () => {
    const open: string[] = [];
    const walk = async (dir: string): Promise<void> => {
      for (const entry of await fs.readdir(dir, { withFileTypes: true })) {
        const file = path.join(dir, entry.name);
        const stat = await fs.lstat(file);
        if (stat.isSymbolicLink()) continue;
        if ((stat.mode & 0o077) !== 0) open.push(`${path.relative(t.dataDir, file)} ${(stat.mode & 0o777).toString(8)}`);
        if (stat.isDirectory()) await walk(file);
      }
    };
    expect((await fs.stat(t.dataDir)).mode & 0o777).toBe(0o700);
    await walk(t.dataDir);
    expect(open).toEqual([]);
  });
});

describe('container limits and log streams (items 3, 7)', () => {
  it('app containers have a PID limit and rotating logs', async () => {
    const inspect = JSON.parse((await run('docker', ['inspect', t.server.store.getApp(APP)!.container!])).stdout)[0];
    expect(inspect.HostConfig.PidsLimit).toBe(64);
    expect(inspect.HostConfig.LogConfig).toEqual({ Type: 'json-file', Config: { 'max-size': String(2 << 20), 'max-file': '3' } });
  });

  it('a fork bomb stops at the PID limit', async () => {
    const res = await httpGet(t.server.store.getApp(APP)!.port, '/fork?n=120', 60_000);
    const { ok, failed } = JSON.parse(res!.body) as { ok: number; failed: number };
    expect(ok).toBeLessThan(64);
    expect(failed).toBeGreaterThan(120 - 64);
  });

  it('a flood of app output is rotated on disk, and a log read answers with its newest 2 MiB only', async () => {
    const port = t.server.store.getApp(APP)!.port;
    expect((await httpGet(port, '/spam?kb=5000&tag=last', 120_000))?.status).toBe(200);
    const inspect = JSON.parse((await run('docker', ['inspect', t.server.store.getApp(APP)!.container!])).stdout)[0];
    const logPath = inspect.LogPath as string;
    const files = (await fs.readdir(path.dirname(logPath))).filter((f) => f.startsWith(path.basename(logPath)));
    expect(files.length).toBeLessThanOrEqual(3);
    for (const f of files) expect((await fs.stat(path.join(path.dirname(logPath), f))).size).toBeLessThanOrEqual((2 << 20) + 64 * 1024);
    // stdout of the app is a pipe: its last lines may arrive a moment after the answer.
    await eventually(async () => expect((await api('GET', `/apps/${APP}/logs?tail=1`)).text).toContain('spam done last'), 60_000, 500);
    const reads = await Promise.all(Array.from({ length: 6 }, () => api('GET', `/apps/${APP}/logs?tail=10000`)));
    for (const read of reads) {
      expect(read.status).toBe(200);
      const bytes = Buffer.byteLength(read.text);
      expect(bytes, 'bytes of the answer').toBeLessThanOrEqual((2 << 20) + 200);
      expect(bytes, 'bytes of the answer').toBeGreaterThan(1 << 20);
      expect(read.text.startsWith('[MinPaas: earlier output cut'), read.text.slice(0, 200)).toBe(true);
      expect(read.text.endsWith('spam done last\n'), read.text.slice(-200)).toBe(true);
    }
  });

  it('30 follow requests that leave while the stream is set up leave no Docker stream open', async () => {
    await Promise.all(
      Array.from({ length: 30 }, () =>
        rawRequest(`GET /apps/${APP}/logs?follow=1&tail=1 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TEST_TOKEN}`, Buffer.alloc(0), { abortAfterWrite: true }),
      ),
    );
    await eventually(async () => {
      expect(dockerLogFollows()).toBe(0);
      expect(t.docker.openLogStreamCount).toBe(0);
    }, 30_000, 200);
  });

  it('the server recovered', async () => {
    await assertRecovered();
  });
});
