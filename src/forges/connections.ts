import type { ForgeConnection } from '../domain/forges.js';
import { assertAppName } from '../domain/names.js';
import { assertBranch, assertRepoUrl } from '../domain/repo-url.js';
import { invalid, MinPaasError, notFound } from '../errors.js';
import type { GitCredentials } from '../git/fetch-commit.js';
import type { Store } from '../store/store.js';
import { FORGES, type ForgeName } from './events.js';
import { newWebhookSecret } from './signature.js';

/** A connection as the API shows it: never the secret or the token. */
export interface ConnectionView {
  app: string;
  forge: ForgeName;
  repo: string;
  branch: string;
  hasToken: boolean;
  webhook: WebhookSettings;
  createdAt: string;
}

/** What to enter on the forge. */
export interface WebhookSettings {
  url: string;
  contentType: 'application/json';
  events: string[];
  /** Only in the answer that created it. */
  secret?: string;
}

const EVENTS: Record<ForgeName, string[]> = {
  github: ['push', 'pull_request'],
  gitlab: ['Push events', 'Merge request events'],
};

function assertForge(value: unknown): ForgeName {
  if (typeof value !== 'string' || !(FORGES as readonly string[]).includes(value)) throw invalid('forge must be "github" or "gitlab"');
  return value as ForgeName;
}

/** Tokens are sent as a header: no control characters, a sane length. */
function assertToken(value: unknown): string | null {
  if (value === undefined || value === null || value === '') return null;
  if (typeof value !== 'string' || value.length > 1024 || /[\s\u0000-\u001f\u007f]/.test(value)) {
    throw invalid('token must be a single line without spaces (a deploy or access token, optionally USER:TOKEN)');
  }
  return value;
}

/** git's credentials for a connection's token: `USER:TOKEN`, or the user each forge documents for tokens. */
export function gitCredentials(conn: Pick<ForgeConnection, 'forge' | 'token'>): GitCredentials | null {
  if (!conn.token) return null;
  const colon = conn.token.indexOf(':');
  if (colon > 0) return { username: conn.token.slice(0, colon), password: conn.token.slice(colon + 1) };
  return { username: conn.forge === 'github' ? 'x-access-token' : 'oauth2', password: conn.token };
}

/** The token the forge's API takes (the password part of `USER:TOKEN`). */
export function apiToken(conn: Pick<ForgeConnection, 'forge' | 'token'>): string | null {
  return gitCredentials(conn)?.password ?? null;
}

export class ConnectionService {
  constructor(
    private readonly store: Store,
    private readonly publicUrl: () => string,
  ) {}

  /** Connects (or reconnects with a new secret) an existing app; the answer carries the secret, once. */
  connect(name: unknown, body: Record<string, unknown>): ConnectionView {
    const app = this.app(name);
    const forge = assertForge(body.forge);
    const repo = assertRepoUrl(body.repo);
    const url = new URL(repo);
    if (url.username || url.password) throw invalid('repo URL must not carry credentials: pass the deploy token separately (it is stored, never shown)');
    const branch = body.branch === undefined || body.branch === null ? 'main' : assertBranch(body.branch);
    const token = assertToken(body.token);
    const conn = this.store.forges.saveConnection({ app, forge, repo, branch, secret: newWebhookSecret(), token });
    const view = this.view(conn);
    return { ...view, webhook: { ...view.webhook, secret: conn.secret } };
  }

  get(name: unknown): ConnectionView {
    const app = this.app(name);
    const conn = this.store.forges.getConnection(app);
    if (!conn) throw notFound(`${app} is not connected to GitHub or GitLab`);
    return this.view(conn);
  }

  /** `forge` guards against removing the other forge's connection by mistake. */
  disconnect(name: unknown, forge: unknown): { app: string; forge: ForgeName } {
    const app = this.app(name);
    const conn = this.store.forges.getConnection(app);
    const wanted = forge === undefined || forge === null || forge === '' ? undefined : assertForge(forge);
    if (!conn) throw notFound(`${app} is not connected to GitHub or GitLab`);
    if (wanted && conn.forge !== wanted) throw new MinPaasError('CONFLICT', `${app} is connected to ${conn.forge}, not ${wanted}`);
    this.store.forges.deleteConnection(app);
    return { app, forge: conn.forge };
  }

  private view(conn: ForgeConnection): ConnectionView {
    return {
      app: conn.app,
      forge: conn.forge,
      repo: conn.repo,
      branch: conn.branch,
      hasToken: conn.token !== null,
      webhook: { url: `${this.publicUrl()}/hooks/${conn.forge}/${conn.app}`, contentType: 'application/json', events: EVENTS[conn.forge] },
      createdAt: conn.createdAt,
    };
  }

  private app(name: unknown): string {
    const app = assertAppName(name);
    if (!this.store.getApp(app)) throw notFound(`no app named ${app}: deploy or create it first, then connect it`);
    return app;
  }
}
