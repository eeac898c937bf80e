import type Database from 'better-sqlite3';

type Row = Record<string, unknown>;

export type AppRole = 'admin' | 'deploy' | 'read';

export interface UserRecord {
  name: string;
  /** Owners are server-wide admins. */
  owner: boolean;
  createdAt: string;
}

/** A token as stored: only a salted scrypt hash of its secret. */
export interface TokenRow {
  id: string;
  user: string;
  name: string;
  salt: Buffer;
  hash: Buffer;
  createdAt: string;
  expiresAt: string | null;
  revokedAt: string | null;
  lastUsedAt: string | null;
}

export interface AccessGrant {
  app: string;
  user: string;
  role: AppRole;
  grantedAt: string;
}

export interface AuditEntry {
  id: number;
  at: string;
  user: string | null;
  tokenName: string | null;
  address: string | null;
  action: string;
  app: string | null;
  /** What changed, never a value (e.g. config keys). */
  detail: Record<string, unknown> | null;
  status: number;
  outcome: 'succeeded' | 'failed';
}

export type NewAuditEntry = Omit<AuditEntry, 'id' | 'at' | 'outcome'>;

const now = (): string => new Date().toISOString();

function toUser(r: Row): UserRecord {
  return { name: r.name as string, owner: r.owner === 1, createdAt: r.created_at as string };
}

function toToken(r: Row): TokenRow {
  return {
    id: r.id as string,
    user: r.user as string,
    name: r.name as string,
    salt: r.salt as Buffer,
    hash: r.hash as Buffer,
    createdAt: r.created_at as string,
    expiresAt: (r.expires_at as string | null) ?? null,
    revokedAt: (r.revoked_at as string | null) ?? null,
    lastUsedAt: (r.last_used_at as string | null) ?? null,
  };
}

function toAudit(r: Row): AuditEntry {
  return {
    id: r.id as number,
    at: r.at as string,
    user: (r.user as string | null) ?? null,
    tokenName: (r.token_name as string | null) ?? null,
    address: (r.address as string | null) ?? null,
    action: r.action as string,
    app: (r.app as string | null) ?? null,
    detail: r.detail ? (JSON.parse(r.detail as string) as Record<string, unknown>) : null,
    status: r.status as number,
    outcome: r.outcome as AuditEntry['outcome'],
  };
}

/** Users, their tokens, roles per app and the audit log (part of Store; the same database). */
export class AuthStore {
  constructor(private readonly db: Database.Database) {}

  // users

  listUsers(): UserRecord[] {
    return (this.db.prepare('SELECT * FROM users ORDER BY name').all() as Row[]).map(toUser);
  }

  getUser(name: string): UserRecord | undefined {
    const row = this.db.prepare('SELECT * FROM users WHERE name = ?').get(name) as Row | undefined;
    return row ? toUser(row) : undefined;
  }

  /** False when the name is taken. */
  addUser(name: string, owner: boolean): boolean {
    return this.db.prepare('INSERT OR IGNORE INTO users (name, owner, created_at) VALUES (?, ?, ?)').run(name, owner ? 1 : 0, now()).changes > 0;
  }

  /** Removes the user with their tokens and roles (cascade). */
  removeUser(name: string): boolean {
    return this.db.prepare('DELETE FROM users WHERE name = ?').run(name).changes > 0;
  }

  // tokens

  addToken(t: Omit<TokenRow, 'createdAt' | 'revokedAt' | 'lastUsedAt'>): void {
    this.db
      .prepare('INSERT INTO tokens (id, user, name, salt, hash, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(t.id, t.user, t.name, t.salt, t.hash, now(), t.expiresAt);
  }

  getToken(id: string): TokenRow | undefined {
    const row = this.db.prepare('SELECT * FROM tokens WHERE id = ?').get(id) as Row | undefined;
    return row ? toToken(row) : undefined;
  }

  listTokens(user?: string): TokenRow[] {
    const rows = user === undefined
      ? this.db.prepare('SELECT * FROM tokens ORDER BY created_at, id').all()
      : this.db.prepare('SELECT * FROM tokens WHERE user = ? ORDER BY created_at, id').all(user);
    return (rows as Row[]).map(toToken);
  }

  /** False when there is no such token or it was revoked before. */
  revokeToken(id: string): boolean {
    return this.db.prepare('UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL').run(now(), id).changes > 0;
  }

  touchToken(id: string): void {
    this.db.prepare('UPDATE tokens SET last_used_at = ? WHERE id = ?').run(now(), id);
  }

  // roles per app

  roleOf(app: string, user: string): AppRole | undefined {
    const row = this.db.prepare('SELECT role FROM app_access WHERE app = ? AND user = ?').get(app, user) as Row | undefined;
    return row ? (row.role as AppRole) : undefined;
  }

  listAccess(app: string): AccessGrant[] {
    return (this.db.prepare('SELECT * FROM app_access WHERE app = ? ORDER BY user').all(app) as Row[]).map((r) => ({
      app: r.app as string,
      user: r.user as string,
      role: r.role as AppRole,
      grantedAt: r.granted_at as string,
    }));
  }

  /** Apps where the user holds one of `roles`. */
  appsWithRole(user: string, roles: readonly AppRole[]): string[] {
    const rows = this.db.prepare(`SELECT app FROM app_access WHERE user = ? AND role IN (${roles.map(() => '?').join(', ')}) ORDER BY app`).all(user, ...roles) as Row[];
    return rows.map((r) => r.app as string);
  }

  grant(app: string, user: string, role: AppRole): void {
    this.db
      .prepare('INSERT INTO app_access (app, user, role, granted_at) VALUES (?, ?, ?, ?) ON CONFLICT (app, user) DO UPDATE SET role = excluded.role, granted_at = excluded.granted_at')
      .run(app, user, role, now());
  }

  revoke(app: string, user: string): boolean {
    return this.db.prepare('DELETE FROM app_access WHERE app = ? AND user = ?').run(app, user).changes > 0;
  }

  // audit

  recordAudit(e: NewAuditEntry): void {
    this.db
      .prepare('INSERT INTO audit (at, user, token_name, address, action, app, detail, status, outcome) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)')
      .run(now(), e.user, e.tokenName, e.address, e.action, e.app, e.detail ? JSON.stringify(e.detail) : null, e.status, e.status < 400 ? 'succeeded' : 'failed');
  }

  /** Newest first; `apps` limits it to those apps (null = all); `before` is an entry id. */
  listAudit(q: { apps: readonly string[] | null; limit: number; before: number | null }): AuditEntry[] {
    const where: string[] = [];
    const args: unknown[] = [];
    if (q.apps !== null) {
      where.push(`app IN (${q.apps.map(() => '?').join(', ') || 'NULL'})`);
      args.push(...q.apps);
    }
    if (q.before !== null) {
      where.push('id < ?');
      args.push(q.before);
    }
    const sql = `SELECT * FROM audit ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`;
    return (this.db.prepare(sql).all(...args, q.limit) as Row[]).map(toAudit);
  }
}
