import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchCommit, fetchEnv } from '../../src/git/fetch-commit.js';
import { privateGitServer, type PrivateGitServer } from '../helpers/forge-servers.js';
import { AppRepo } from '../helpers/git.js';

/** Real git against `git http-backend` behind Basic auth; no Docker. */

const creds = { username: 'x-access-token', password: 'tok-secret-42' };
let v2: PrivateGitServer;
let v0: PrivateGitServer;
let repo: AppRepo;
let work: string;
let first: string;
let second: string;

beforeAll(async () => {
  v2 = await privateGitServer({ user: creds.username, password: creds.password });
  v0 = await privateGitServer({ user: creds.username, password: creds.password, protocolV0: true });
  repo = await AppRepo.create({ 'a.txt': 'one' });
  first = (await repo.git('rev-parse', 'HEAD')).stdout.trim();
  second = await repo.commit({ 'a.txt': 'two' }, 'two');
  for (const server of [v2, v0]) expect((await repo.push((await server.bare('r')).dir, 'main')).code).toBe(0);
  work = await fs.mkdtemp(path.join(os.tmpdir(), 'minpaas-fetch-'));
});

afterAll(async () => {
  await v2?.close();
  await v0?.close();
  await repo?.remove();
  await fs.rm(work, { recursive: true, force: true });
});

const opts = (server: PrivateGitServer, commit: string, dest: string) => ({
  url: `${server.url}/r.git`,
  commit,
  ref: 'refs/heads/main',
  dest: path.join(work, dest),
  timeoutMs: 60_000,
  credentials: creds,
});

describe('fetchCommit', () => {
  it('checks out exactly the given commit, even when the branch has moved on', async () => {
    const dest = opts(v2, first, 'a').dest;
    expect(await fetchCommit(opts(v2, first, 'a'))).toBe(first);
    expect(await fs.readFile(path.join(dest, 'a.txt'), 'utf8')).toBe('one');
  });

  it('a server that refuses commits by id (protocol v0): the ref is fetched and must match', async () => {
    expect(await fetchCommit(opts(v0, second, 'b'))).toBe(second);
    const err = (await fetchCommit(opts(v0, first, 'c')).catch((e: unknown) => e)) as Error & { code: string };
    expect(err).toMatchObject({ code: 'CLONE_FAILED' });
    expect(err.message).toContain('has moved on');
    await expect(fs.stat(path.join(work, 'c'))).rejects.toThrow();
  });

  it('sends the token as a header, never in a URL, an argument or an error', async () => {
    const wrong = { ...opts(v2, first, 'd'), credentials: { ...creds, password: 'wrong-token' } };
    const err = (await fetchCommit(wrong).catch((e: unknown) => e)) as Error;
    expect(err.message).toMatch(/could not fetch/);
    expect(err.message).not.toContain('wrong-token');
    const none = (await fetchCommit({ ...opts(v2, first, 'e'), credentials: null }).catch((e: unknown) => e)) as Error;
    expect(none.message).toMatch(/could not fetch/);
    const env = fetchEnv(`${v2.url}/r.git`, creds);
    const index = Number(env.GIT_CONFIG_COUNT) - 1;
    expect(env[`GIT_CONFIG_KEY_${index}`]).toBe(`http.${v2.url}/.extraHeader`);
    expect(env[`GIT_CONFIG_VALUE_${index}`]).toBe(`Authorization: Basic ${Buffer.from('x-access-token:tok-secret-42').toString('base64')}`);
  });
});
