import fs from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeApp } from '../fixtures/apps.js';
import { AppRepo } from '../helpers/git.js';
import { ServerProcess } from '../helpers/server-process.js';
import { TEST_TOKEN, uniqueName } from '../helpers/server.js';

// Issue 7 against `minpaas server` as its own process, where a crash, a log flood, a
// token in the log, file modes and a stop that hangs can be seen from outside.

const APP = uniqueName('hp');
const BASIC = `Basic ${Buffer.from(`x:${TEST_TOKEN}`).toString('base64')}`;
let proc: ServerProcess;
let repo: AppRepo;
let generatedToken: string;

const logSize = async (): Promise<number> => (await fs.stat(proc.logFile)).size;
const mode = async (p: string): Promise<number> => (await fs.stat(path.join(proc.dataDir, p))).mode & 0o777;

/** Sends a request head (and `body`), then closes the socket without waiting for an answer. */
function abandon(head: string, body = ''): Promise<void> {
  return new Promise((resolve) => {
    const socket = net.connect(proc.port, '127.0.0.1', () => {
      socket.write(`${head}\r\n\r\n${body}`, () => setTimeout(() => socket.destroy(), 20));
    });
    socket.on('error', () => undefined);
    socket.on('close', () => resolve());
  });
}

function unauthenticated(pathname: string): Promise<number> {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port: proc.port, path: pathname, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', () => resolve(0));
  });
}

beforeAll(async () => {
  // No MINPAAS_TOKEN: the first start generates one.
  proc = await ServerProcess.create({ env: { MINPAAS_TOKEN: '', MINPAAS_DRAIN_TIMEOUT: '5' } });
  // A data dir as older versions left it: readable by every local user.
  await fs.chmod(proc.dataDir, 0o755);
  await fs.mkdir(path.join(proc.dataDir, 'repos'), { mode: 0o755 });
  await fs.chmod(path.join(proc.dataDir, 'repos'), 0o755);
  await fs.writeFile(path.join(proc.dataDir, 'notes'), 'old', { mode: 0o644 });
  await fs.chmod(path.join(proc.dataDir, 'notes'), 0o644);
  await proc.start();
  generatedToken = (await fs.readFile(path.join(proc.dataDir, 'token'), 'utf8')).trim();
});

afterAll(async () => {
  await proc?.cleanup();
  await repo?.remove();
});

describe('first start (items 4, 6)', () => {
  it('the generated token is in <data>/token (0600), not in the log: stdout is not a terminal', async () => {
    expect(generatedToken).toMatch(/^[A-Za-z0-9_-]{20,}$/);
    expect(await mode('token')).toBe(0o600);
    const log = await fs.readFile(proc.logFile, 'utf8');
    expect(log).not.toContain(generatedToken);
    expect(log).toMatch(/saved it to .*token \(mode 0600\); it is not printed/);
  });

  it('the data dir is 0700 and every file in it owner-only, old ones fixed', async () => {
    expect(await mode('.')).toBe(0o700);
    expect(await mode('repos')).toBe(0o700);
    expect(await mode('notes')).toBe(0o600);
    expect(await mode('minpaas.db')).toBe(0o600);
    expect(await mode('instance-id')).toBe(0o600);
  });

  it('later starts use the saved token (the tests switch it to theirs here)', async () => {
    await proc.stop();
    await fs.writeFile(path.join(proc.dataDir, 'token'), `${TEST_TOKEN}\n`);
    await proc.start();
    expect((await proc.api('GET', '/apps')).status).toBe(200);
    const log = await fs.readFile(proc.logFile, 'utf8');
    expect(log).not.toContain(TEST_TOKEN);
  });
});

describe('refused requests and the log (item 4)', () => {
  it('10 connections sending 8 KB URLs without a token: 401s that add next to nothing to the log', async () => {
    const before = await logSize();
    const url = `/apps/${'x'.repeat(8192)}`;
    for (let round = 0; round < 30; round++) {
      const statuses = await Promise.all(Array.from({ length: 10 }, () => unauthenticated(url)));
      expect(statuses.every((s) => s === 401)).toBe(true);
    }
    // 300 requests of 8 KB each: the old code wrote about 2.5 MB here.
    expect((await logSize()) - before).toBeLessThan(20 * 1024);
  });

  it('a token sent in a query string never reaches the log, and logged URLs are cut', async () => {
    const secret = `query-secret-${Math.random().toString(36).slice(2)}`;
    expect((await proc.api('GET', `/no-such-endpoint?token=${secret}&x=${'y'.repeat(1000)}`)).status).toBe(404);
    expect((await proc.api('GET', `/apps/${TEST_TOKEN}/config`)).status).toBe(404);
    expect((await proc.api('GET', `/apps/x/${TEST_TOKEN}`)).status).toBe(404);
    const log = await fs.readFile(proc.logFile, 'utf8');
    expect(log).toMatch(/no-such-endpoint\?token=\*\*\*&x=y+…\(\d+ chars\)/);
    expect(log).not.toContain(secret);
    expect(log).not.toContain(TEST_TOKEN);
  });
});

describe('credentials in a repo URL (item 5)', () => {
  it('a failing clone with user:secret@ shows and logs the URL redacted only', async () => {
    const secret = `repo-secret-${Math.random().toString(36).slice(2)}`;
    const res = await proc.api('POST', '/deploy', { app: uniqueName('hp-cred'), runtime: 'node', repo: `http://deployer:${secret}@127.0.0.1:9/x.git` });
    expect(res.status, res.text).toBe(422);
    expect(res.json.error).toMatch(/could not clone http:\/\/\*\*\*@127\.0\.0\.1:9\/x\.git/);
    expect(res.text).not.toContain(secret);
    const log = await fs.readFile(proc.logFile, 'utf8');
    expect(log).toMatch(/deploy failed/);
    expect(log).not.toContain(secret);
  });
});

describe('a deployed app (items 1, 3)', () => {
  beforeAll(async () => {
    repo = await AppRepo.create(nodeApp('hp v1'));
    const push = await repo.push(proc.remote(APP));
    expect(push.code, push.output).toBe(0);
  });

  it('SIGTERM stops the server within the drain timeout, with follow streams open and others left mid-setup', async () => {
    const open: http.ClientRequest[] = [];
    for (let i = 0; i < 5; i++) {
      await new Promise<void>((resolve) => {
        const req = http.get({ host: '127.0.0.1', port: proc.port, path: `/apps/${APP}/logs?follow=1&tail=1`, headers: { authorization: `Bearer ${TEST_TOKEN}` }, agent: false }, (res) => {
          res.on('data', () => undefined);
          res.on('error', () => undefined);
          resolve();
        });
        req.on('error', () => resolve());
        open.push(req);
      });
    }
    await Promise.all(
      Array.from({ length: 30 }, () => abandon(`GET /apps/${APP}/logs?follow=1&tail=1 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TEST_TOKEN}`)),
    );
    // MINPAAS_DRAIN_TIMEOUT is 5 s; stop() fails (and kills) when SIGTERM is ignored for 15 s.
    await proc.stop(15_000);
    expect(proc.running).toBe(false);
    // Closed cleanly, not cut off by the deadline.
    expect(proc.exits.at(-1)).toBe('code 0');
    for (const req of open) req.destroy();
    await proc.start();
    expect(await proc.healthy()).toBe(true);
  });
  it('aborted git POSTs (a few bytes of a declared 1000) do not stop the server', async () => {
    const exits = proc.exits.length;
    for (const service of ['git-receive-pack', 'git-upload-pack']) {
      for (const body of ['00000', '', '0032want ']) {
        await abandon(`POST /${APP}.git/${service} HTTP/1.1\r\nHost: x\r\nAuthorization: ${BASIC}\r\nContent-Length: 1000`, body);
      }
    }
    await new Promise((r) => setTimeout(r, 1500));
    expect(proc.running).toBe(true);
    expect(await proc.healthy()).toBe(true);
    expect(proc.exits.length).toBe(exits);
  });

});
