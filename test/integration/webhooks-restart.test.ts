import crypto from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { githubSignature } from '../../src/forges/signature.js';
import { nodeApp } from '../fixtures/apps.js';
import { githubPush } from '../fixtures/forge-payloads.js';
import { privateGitServer, type PrivateGitServer } from '../helpers/forge-servers.js';
import { AppRepo } from '../helpers/git.js';
import { eventually, httpGet } from '../helpers/http.js';
import { ServerProcess } from '../helpers/server-process.js';
import { uniqueName } from '../helpers/server.js';

/**
 * kill -9 of MinPaas while a webhook deploy runs and a newer push waits behind it: after
 * the restart, the newest pushed commit is deployed without another delivery.
 */

const TOKEN = 'ghp_restarttoken42';
let srv: ServerProcess;
let git: PrivateGitServer;
let repo: AppRepo;

beforeAll(async () => {
  git = await privateGitServer({ user: 'x-access-token', password: TOKEN });
  // Statuses go nowhere reachable: posting them fails quietly, as documented.
  srv = await ServerProcess.create({ env: { MINPAAS_GITHUB_API_URL: 'http://127.0.0.1:9' } });
  await srv.start();
});

afterAll(async () => {
  git?.openGate();
  await srv?.cleanup();
  await git?.close();
  await repo?.remove();
});

it('resumes the newest waiting push after kill -9', async () => {
  const app = uniqueName('resume');
  const bare = await git.bare(app);
  repo = await AppRepo.create(nodeApp('r0'));
  expect((await repo.push(bare.dir, 'main')).code).toBe(0);
  git.authRequired = false;
  expect((await srv.api('POST', '/deploy', { app, runtime: 'node', repo: bare.url })).status).toBe(200);
  git.authRequired = true;
  const conn = await srv.api('PUT', `/apps/${app}/forge`, { forge: 'github', repo: bare.url, token: TOKEN });
  expect(conn.status).toBe(201);
  const secret: string = conn.json.webhook.secret;
  const deliver = async (sha: string, message: string) => {
    const body = JSON.stringify(githubPush({ fullName: 'o/r', cloneUrl: bare.url, ref: 'refs/heads/main', before: '0'.repeat(40), after: sha, message }));
    const res = await fetch(`${srv.url}/hooks/github/${app}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-github-event': 'push', 'x-github-delivery': crypto.randomUUID(), 'x-hub-signature-256': githubSignature(secret, body) },
      body,
    });
    return (await res.json()) as { status: string; deployId?: number };
  };

  const first = await repo.commit(nodeApp('r1'), 'r1');
  const second = await repo.commit(nodeApp('r2'), 'r2');
  expect((await repo.push(bare.dir, 'main')).code).toBe(0);
  git.requests = 0;
  git.closeGate();
  const running = await deliver(first, 'r1');
  expect(running.status).toBe('deploying');
  expect((await deliver(second, 'r2')).status).toBe('queued');
  await eventually(async () => expect(git.requests).toBeGreaterThan(0));

  await srv.kill9();
  git.dropWaiting();
  await srv.start();

  const port = (await srv.api('GET', `/apps/${app}`)).json.port as number;
  await eventually(async () => expect((await httpGet(port))?.body).toContain('r2 '), 180_000, 500);
  await eventually(async () => {
    const deploys = (await srv.api('GET', `/apps/${app}/deploys`)).json as { id: number; status: string; commit: string | null }[];
    expect(deploys.find((d) => d.id === running.deployId)).toMatchObject({ status: 'failed' });
    expect(deploys[0]).toMatchObject({ status: 'succeeded', commit: second });
  });
});
