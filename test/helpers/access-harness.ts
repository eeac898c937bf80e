import { domainRoutes } from '../../src/http/domain-routes.js';
import type { DomainService } from '../../src/tls/domain-service.js';
import type { ProcessService } from '../../src/apps/process-service.js';
import { processRoutes } from '../../src/http/process-routes.js';
import { nodeRoutes } from '../../src/http/node-routes.js';
import type { NodeService } from '../../src/apps/node-service.js';
import fs from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import type { AppService } from '../../src/apps/app-service.js';
import { parseConfigChanges } from '../../src/apps/config-changes.js';
import type { PreviewService } from '../../src/apps/previews.js';
import { createAccessLayer, type AccessLayer } from '../../src/auth/access-layer.js';
import { issueToken } from '../../src/auth/scoped-tokens.js';
import { UserService } from '../../src/auth/users.js';
import { Viewer } from '../../src/auth/access.js';
import { PROJECT_ROOT } from '../../src/config.js';
import type { AppRecord } from '../../src/domain/types.js';
import type { ConnectionService } from '../../src/forges/connections.js';
import { GitHttp, isGitRequest } from '../../src/git/git-http.js';
import { RepoStore } from '../../src/git/repos.js';
import { apiRoutes, type Route } from '../../src/http/api-routes.js';
import { forgeRoutes } from '../../src/http/forge-routes.js';
import { createHttpServer } from '../../src/http/server.js';
import { sendJson } from '../../src/http/respond.js';
import { MinPaasError } from '../../src/errors.js';
import { loadSecrets, type Secrets } from '../../src/secrets/rotation.js';
import type { AppRole } from '../../src/store/auth-store.js';
import { Store } from '../../src/store/store.js';

export const OWNER_TOKEN = 'owner-token-for-the-access-harness';

function record(name: string, env: Record<string, string>): AppRecord {
  const t = new Date().toISOString();
  return { name, runtime: 'node', builder: 'platform', scheduler: 'docker-local', repo: null, branch: null, container: null, image: null, port: 1, url: '', env, release: null, status: 'idle', restarts: 0, resources: { memory: '512m', cpus: 1 }, createdAt: t, updatedAt: t };
}

/**
 * A stand-in for the app service (unit tests only): answers every call the routes make
 * with a fixed value, so a route's status shows only what the guard decided.
 */
function fakeApps(store: Store): AppService {
  const rec = async (name: unknown): Promise<AppRecord> => record(String(name), store.getEnv(String(name)));
  return {
    list: async () => store.listApps().map((a) => record(a.name, store.getEnv(a.name))),
    create: async (input: { name?: unknown }) => record(String(input.name), {}),
    setBuilder: rec,
    setScheduler: rec,
    deployFromRepo: async (cmd: { app: string; repo: { url: string } }) => {
      if (cmd.repo.url.includes('broken')) throw new MinPaasError('BUILD_FAILED', 'the build failed');
      return rec(cmd.app);
    },
    get: rec,
    destroy: async () => undefined,
    logs: async () => 'log line\n',
    followLogs: async () => ({ stream: null as never, stop: () => undefined }),
    getConfig: (name: unknown) => store.getEnv(String(name)),
    patchConfig: async (name: unknown, body: unknown) => {
      const env = { ...store.getEnv(String(name)) };
      // The service's own validation, so refusals carry its real messages.
      for (const [k, v] of Object.entries(parseConfigChanges(body))) if (v === null) delete env[k];
      else env[k] = v;
      store.setEnv(String(name), env);
      return { config: env, release: null };
    },
    setResources: rec,
    releases: (name: unknown) => [{ app: String(name), number: 1, image: 'i', imageId: 'sha256:x', env: store.getEnv(String(name)), commit: null, kind: 'build', description: 'd', processTypes: {}, listenPort: null, createdAt: '' }],
    rollback: rec,
    deploys: () => [],
    deployLog: () => 'deploy log\n',
  } as unknown as AppService;
}

const fakeConnections = {
  connect: (app: string) => ({ app, forge: 'github', repo: 'https://example.invalid/r', branch: 'main', hasToken: false, webhook: { url: '', contentType: 'json', events: [] } }),
  get: (app: string) => ({ app }),
  disconnect: (app: string) => ({ app }),
} as unknown as ConnectionService;

const fakePreviews = { list: () => [] } as unknown as PreviewService;

/** A stand-in for the domain service: fixed answers (the guard's decision is what the matrix tests). */
const fakeDomains = {
  listAll: () => [],
  list: () => [],
  httpsRedirect: () => true,
  add: async (app: string, host: unknown) => ({ host, app }),
  remove: async () => true,
  addUserCertificate: async () => ({ hosts: [] }),
  setHttpsRedirect: async () => undefined,
} as unknown as DomainService;

const NODE = { id: 'n1', hostname: 'node-1', role: 'manager', availability: 'active', state: 'ready', address: '10.0.0.1', leader: true, tasks: 0 };

/** A stand-in for the node service: fixed answers (the guard's decision is what the matrix tests). */
const fakeNodes = {
  list: async () => [NODE],
  drain: async () => ({ ...NODE, availability: 'drain' }),
  activate: async () => NODE,
} as unknown as NodeService;

/** A stand-in for the process service: fixed answers; a run streams one line and exits 0. */
const fakeProcesses = {
  formation: () => ({ web: 1 }),
  scale: async () => ({ web: 2 }),
  ps: async (app: string) => ({ app, processes: [] }),
  runnable: () => undefined,
  run: async (_app: string, _cmd: unknown, onOutput: (stream: 'stdout' | 'stderr', chunk: Buffer) => void) => {
    onOutput('stdout', Buffer.from('ran\n'));
    return { exitCode: 0, timedOut: false };
  },
} as unknown as ProcessService;

export interface Harness {
  url: string;
  store: Store;
  secrets: Secrets;
  access: AccessLayer;
  routes: Route[];
  repos: RepoStore;
  dir: string;
  /** Everything the server logged (JSON lines). */
  logText(): string;
  /** A new token for `user` (created first if needed), with `role` on `app`. */
  tokenFor(user: string, grants?: Record<string, AppRole>, opts?: { owner?: boolean; expiresAt?: string | null }): Promise<{ id: string; token: string }>;
  close(): Promise<void>;
}

export async function startHarness(opts: { failuresPerMinute?: number } = {}): Promise<Harness> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'minpaas-access-'));
  const secrets = loadSecrets(path.join(dir, 'secret.key'));
  const store = new Store(path.join(dir, 'minpaas.db'), secrets.cipher);
  const logLines: string[] = [];
  const log = pino({ level: 'debug' }, new Writable({ write: (chunk, _enc, done) => void (logLines.push(String(chunk)), done()) }));
  const access = createAccessLayer({ store, secrets, ownerToken: OWNER_TOKEN, failuresPerMinute: opts.failuresPerMinute ?? 1_000_000, log });
  const apps = fakeApps(store);
  const routes = [...apiRoutes(apps), ...processRoutes(fakeProcesses), ...nodeRoutes(fakeNodes), ...domainRoutes(fakeDomains), ...forgeRoutes(fakeConnections, fakePreviews, store, () => null), ...access.routes];
  const repos = new RepoStore(path.join(dir, 'repos'), path.join(PROJECT_ROOT, 'hooks'), 10 * 1024 * 1024);
  const git = new GitHttp(repos, access.git, log, (name) => store.getApp(name) !== undefined);
  // Webhook endpoints stand-in: accepts every delivery (the audit hook is what is tested).
  const hooks = { matches: (method: string | undefined, p: string) => method === 'POST' && /^\/hooks\/(github|gitlab)\/[^/]+$/.test(p), handle: async (_req: http.IncomingMessage, res: http.ServerResponse) => sendJson(res, 202, { accepted: true }) };
  const server = createHttpServer({ token: OWNER_TOKEN, guard: access.guard, routes, hooks, git: { matches: isGitRequest, handle: (req, res) => git.handle(req, res) }, log });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  const users = new UserService(store);
  const ownerViewer = new Viewer({ user: 'owner', owner: true, tokenId: null, tokenName: 'owner token' }, store.auth);
  return {
    url: `http://127.0.0.1:${port}`,
    store,
    secrets,
    access,
    routes,
    repos,
    dir,
    logText: () => logLines.join(''),
    async tokenFor(user, grants = {}, o = {}) {
      if (!store.auth.getUser(user)) store.auth.addUser(user, o.owner === true);
      for (const [app, role] of Object.entries(grants)) store.auth.grant(app, user, role);
      if (o.expiresAt !== undefined) {
        const issued = await issueToken();
        store.auth.addToken({ id: issued.id, user, name: `${user}-token`, salt: issued.salt, hash: issued.hash, expiresAt: o.expiresAt });
        return { id: issued.id, token: issued.token };
      }
      const created = await users.createToken(ownerViewer, { user, name: `${user}-token` });
      return { id: created.id, token: created.token };
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      store.close();
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
}

export interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
}

/** One request; `auth` is a full Authorization header value or undefined. */
export function request(base: string, method: string, pathname: string, auth: string | undefined, body?: unknown): Promise<Answer> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  const headers: http.OutgoingHttpHeaders = {};
  if (auth) headers.Authorization = auth;
  if (payload !== undefined) {
    headers['Content-Type'] = 'application/json';
    headers['Content-Length'] = Buffer.byteLength(payload);
  }
  return new Promise((resolve, reject) => {
    const req = http.request(`${base}${pathname}`, { method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(payload);
  });
}

export const bearer = (token: string): string => `Bearer ${token}`;
export const basic = (token: string): string => `Basic ${Buffer.from(`x:${token}`).toString('base64')}`;
