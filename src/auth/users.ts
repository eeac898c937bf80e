import { assertAppName } from '../domain/names.js';
import { invalid, MinPaasError, notFound } from '../errors.js';
import type { AccessGrant, AuditEntry, TokenRow, UserRecord } from '../store/auth-store.js';
import type { Store } from '../store/store.js';
import { isAppRole, type Viewer } from './access.js';
import { OWNER_USER } from './authenticator.js';
import { issueToken, parseDuration } from './scoped-tokens.js';

/** A token as the API shows it: never its hash. */
export interface TokenView {
  id: string;
  user: string;
  name: string;
  createdAt: string;
  expiresAt: string | null;
  revokedAt: string | null;
  lastUsedAt: string | null;
  state: 'active' | 'expired' | 'revoked';
}

const USER_NAME = /^[a-z][a-z0-9._-]{0,39}$/;
const TOKEN_NAME = /^[A-Za-z0-9 ._:@-]{1,60}$/;

function tokenView(t: TokenRow, now: number): TokenView {
  const state = t.revokedAt ? 'revoked' : t.expiresAt && Date.parse(t.expiresAt) <= now ? 'expired' : 'active';
  return { id: t.id, user: t.user, name: t.name, createdAt: t.createdAt, expiresAt: t.expiresAt, revokedAt: t.revokedAt, lastUsedAt: t.lastUsedAt, state };
}

function field(body: Record<string, unknown>, name: string): string | undefined {
  const v = body[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw invalid(`${name} must be a string`);
  return v;
}

/** Users, tokens, roles per app and the audit log as the API offers them; the caller's rights checked here. */
export class UserService {
  constructor(
    private readonly store: Store,
    private readonly clock: () => number = Date.now,
  ) {}

  listUsers(): UserRecord[] {
    return this.store.auth.listUsers();
  }

  addUser(body: Record<string, unknown>): UserRecord {
    const name = field(body, 'name');
    if (!name || !USER_NAME.test(name)) throw invalid('a user name is 1-40 lowercase letters, digits, dots, dashes and underscores, starting with a letter');
    if (body.owner !== undefined && typeof body.owner !== 'boolean') throw invalid('owner must be true or false');
    if (!this.store.auth.addUser(name, body.owner === true)) throw new MinPaasError('CONFLICT', `a user named ${name} exists already`);
    return this.store.auth.getUser(name)!;
  }

  removeUser(name: string): { removed: string } {
    if (name === OWNER_USER) throw invalid(`the ${OWNER_USER} user holds the server's own token and cannot be removed`);
    if (!this.store.auth.removeUser(name)) throw notFound(`no user named ${name}`);
    return { removed: name };
  }

  /** Owners see every token; others their own. */
  listTokens(viewer: Viewer): TokenView[] {
    const rows = this.store.auth.listTokens(viewer.principal.owner ? undefined : viewer.principal.user);
    return rows.map((t) => tokenView(t, this.clock()));
  }

  /** The token is in this answer only. Others' tokens are for owners to create. */
  async createToken(viewer: Viewer, body: Record<string, unknown>): Promise<TokenView & { token: string }> {
    const user = field(body, 'user') ?? viewer.principal.user;
    if (user !== viewer.principal.user) viewer.requireOwner();
    if (!this.store.auth.getUser(user)) throw notFound(`no user named ${user}; add it first: minpaas users:add ${user}`);
    const name = field(body, 'name') ?? 'token';
    if (!TOKEN_NAME.test(name)) throw invalid('a token name is 1-60 letters, digits, spaces and ._:@-');
    const expires = field(body, 'expires');
    let expiresAt: string | null = null;
    if (expires !== undefined) {
      const ms = parseDuration(expires);
      if (ms === undefined) throw invalid('expires is a duration like 90d, 12h, 30m or 4w');
      expiresAt = new Date(this.clock() + ms).toISOString();
    }
    const issued = await issueToken();
    this.store.auth.addToken({ id: issued.id, user, name, salt: issued.salt, hash: issued.hash, expiresAt });
    return { ...tokenView(this.store.auth.getToken(issued.id)!, this.clock()), token: issued.token };
  }

  /** Your own tokens, or anyone's for owners; someone else's token is a 404 (ids do not leak). */
  revokeToken(viewer: Viewer, id: string): TokenView {
    const row = this.store.auth.getToken(id);
    if (!row || (row.user !== viewer.principal.user && !viewer.principal.owner)) throw notFound(`no token with id ${id}`);
    if (!this.store.auth.revokeToken(id) && row.revokedAt === null) throw notFound(`no token with id ${id}`);
    return tokenView(this.store.auth.getToken(id)!, this.clock());
  }

  listAccess(app: string): AccessGrant[] {
    return this.store.auth.listAccess(this.existingApp(app));
  }

  grant(app: string, user: string, body: Record<string, unknown>): AccessGrant {
    const name = this.existingApp(app);
    const role = body.role;
    if (!isAppRole(role)) throw invalid('role must be admin, deploy or read');
    const target = this.store.auth.getUser(user);
    if (!target) throw notFound(`no user named ${user}; add it first: minpaas users:add ${user}`);
    if (target.owner) throw invalid(`${user} is an owner and can do everything already`);
    this.store.auth.grant(name, user, role);
    return this.store.auth.listAccess(name).find((g) => g.user === user)!;
  }

  revokeAccess(app: string, user: string): { app: string; user: string; removed: boolean } {
    const name = this.existingApp(app);
    if (!this.store.auth.revoke(name, user)) throw notFound(`${user} has no role on ${name}`);
    return { app: name, user, removed: true };
  }

  /** Owners see everything; others the apps they administer. */
  audit(viewer: Viewer, query: URLSearchParams): { entries: AuditEntry[]; next: number | null } {
    const limit = wholeNumber(query.get('limit'), 50, 1, 500, 'limit');
    const beforeRaw = query.get('before');
    const before = beforeRaw === null || beforeRaw === '' ? null : wholeNumber(beforeRaw, 0, 1, Number.MAX_SAFE_INTEGER, 'before');
    const app = query.get('app') || null;
    let apps: string[] | null;
    if (app !== null) {
      viewer.require(app, 'admin', true);
      apps = [app];
    } else {
      apps = viewer.principal.owner ? null : this.store.auth.appsWithRole(viewer.principal.user, ['admin']);
    }
    const entries = this.store.auth.listAudit({ apps, limit, before });
    return { entries, next: entries.length === limit ? entries[entries.length - 1]!.id : null };
  }

  private existingApp(app: string): string {
    const name = assertAppName(app);
    if (!this.store.getApp(name)) throw notFound(`no app named ${name}`);
    return name;
  }
}

function wholeNumber(raw: string | null, fallback: number, min: number, max: number, name: string): number {
  if (raw === null || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw invalid(`${name} must be a whole number from ${min} to ${max}`);
  return n;
}
