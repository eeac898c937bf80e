import type Database from 'better-sqlite3';

export type DomainKind = 'default' | 'custom' | 'control';
export type CertStatus = 'none' | 'pending' | 'issued' | 'failed';
export type CertSource = 'acme' | 'user';

/** One host name and the state of its certificate. */
export interface DomainRecord {
  host: string;
  /** null: the control plane's own host. */
  app: string | null;
  kind: DomainKind;
  certSource: CertSource | null;
  certStatus: CertStatus;
  expiresAt: string | null;
  /** The last ACME error (failed), kept until the next success. */
  error: string | null;
  nextRetryAt: string | null;
  failures: number;
  createdAt: string;
}

type Row = Record<string, unknown>;

function toRecord(r: Row): DomainRecord {
  return {
    host: r.host as string,
    app: (r.app as string | null) ?? null,
    kind: r.kind as DomainKind,
    certSource: (r.cert_source as CertSource | null) ?? null,
    certStatus: r.cert_status as CertStatus,
    expiresAt: (r.expires_at as string | null) ?? null,
    error: (r.error as string | null) ?? null,
    nextRetryAt: (r.next_retry_at as string | null) ?? null,
    failures: r.failures as number,
    createdAt: r.created_at as string,
  };
}

export class DomainStore {
  constructor(private readonly db: Database.Database) {}

  list(): DomainRecord[] {
    return (this.db.prepare('SELECT * FROM domains ORDER BY host').all() as Row[]).map(toRecord);
  }

  ofApp(app: string): DomainRecord[] {
    return (this.db.prepare('SELECT * FROM domains WHERE app = ? ORDER BY kind, host').all(app) as Row[]).map(toRecord);
  }

  get(host: string): DomainRecord | undefined {
    const row = this.db.prepare('SELECT * FROM domains WHERE host = ?').get(host) as Row | undefined;
    return row ? toRecord(row) : undefined;
  }

  /** Inserts the host; false when some row already has it (the caller names the owner). */
  insert(host: string, app: string | null, kind: DomainKind): boolean {
    const result = this.db
      .prepare("INSERT OR IGNORE INTO domains (host, app, kind, cert_status, created_at) VALUES (?, ?, ?, 'none', ?)")
      .run(host, app, kind, new Date().toISOString());
    return result.changes === 1;
  }

  delete(host: string): void {
    this.db.prepare('DELETE FROM domains WHERE host = ?').run(host);
  }

  /** Rows of one kind whose host is not in `keep` are removed (APP.DOMAIN after a domain change). */
  deleteKindExcept(kind: DomainKind, keep: Set<string>): string[] {
    const gone = this.list().filter((d) => d.kind === kind && !keep.has(d.host)).map((d) => d.host);
    for (const host of gone) this.delete(host);
    return gone;
  }

  markPending(host: string): void {
    this.db.prepare("UPDATE domains SET cert_status = CASE WHEN cert_status = 'issued' THEN 'issued' ELSE 'pending' END WHERE host = ?").run(host);
  }

  markIssued(host: string, source: CertSource, expiresAt: string): void {
    this.db
      .prepare("UPDATE domains SET cert_source = ?, cert_status = 'issued', expires_at = ?, error = NULL, next_retry_at = NULL, failures = 0 WHERE host = ?")
      .run(source, expiresAt, host);
  }

  /** A failed issuance or renewal: an issued certificate stays issued (it still serves) but carries the error. */
  markFailed(host: string, error: string, nextRetryAt: string): void {
    this.db
      .prepare("UPDATE domains SET cert_status = CASE WHEN cert_status = 'issued' THEN 'issued' ELSE 'failed' END, error = ?, next_retry_at = ?, failures = failures + 1 WHERE host = ?")
      .run(error, nextRetryAt, host);
  }

  httpsRedirect(app: string): boolean {
    const row = this.db.prepare('SELECT https_redirect FROM app_tls WHERE app = ?').get(app) as Row | undefined;
    return row ? row.https_redirect === 1 : true;
  }

  setHttpsRedirect(app: string, on: boolean): void {
    this.db.prepare('INSERT INTO app_tls (app, https_redirect) VALUES (?, ?) ON CONFLICT(app) DO UPDATE SET https_redirect = excluded.https_redirect').run(app, on ? 1 : 0);
  }
}
