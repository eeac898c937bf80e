import type Database from 'better-sqlite3';
import type { DeliveryOutcome, DeliveryRecord, ForgeConnection, PreviewRecord, PreviewStatus } from '../domain/forges.js';
import type { ForgeName } from '../forges/events.js';
import type { ValueCipher } from '../secrets/cipher.js';

type Row = Record<string, unknown>;

const now = (): string => new Date().toISOString();
/** Deliveries are remembered this long: forges redeliver within hours, not weeks. */
const DELIVERY_RETENTION_MS = 14 * 24 * 3600 * 1000;

function toConnection(r: Row, cipher: ValueCipher): ForgeConnection {
  return {
    app: r.app as string,
    forge: r.forge as ForgeName,
    repo: r.repo as string,
    branch: r.branch as string,
    secret: cipher.open(r.secret as string),
    token: r.token === null || r.token === undefined ? null : cipher.open(r.token as string),
    createdAt: r.created_at as string,
  };
}

function toDelivery(r: Row): DeliveryRecord {
  return {
    forge: r.forge as ForgeName,
    id: r.id as string,
    app: r.app as string,
    event: r.event as string,
    outcome: r.outcome as DeliveryOutcome,
    reason: (r.reason as string | null) ?? null,
    pr: (r.pr as number | null) ?? null,
    receivedAt: r.received_at as string,
  };
}

function toPreview(r: Row): PreviewRecord {
  return {
    parent: r.parent as string,
    number: r.number as number,
    app: r.app as string,
    headRef: r.head_ref as string,
    commit: r.commit_sha as string,
    status: r.status as PreviewStatus,
    createdAt: r.created_at as string,
    updatedAt: r.updated_at as string,
  };
}

/** Forge connections, webhook deliveries and preview apps (part of Store; the same database). */
export class ForgeStore {
  constructor(
    private readonly db: Database.Database,
    private readonly cipher: ValueCipher,
  ) {}

  // connections

  getConnection(app: string): ForgeConnection | undefined {
    const row = this.db.prepare('SELECT * FROM forge_connections WHERE app = ?').get(app) as Row | undefined;
    return row ? toConnection(row, this.cipher) : undefined;
  }

  /** Connects (or reconnects, replacing secret and token) an app. */
  saveConnection(c: Omit<ForgeConnection, 'createdAt'>): ForgeConnection {
    this.db
      .prepare(
        `INSERT INTO forge_connections (app, forge, repo, branch, secret, token, created_at)
         VALUES (@app, @forge, @repo, @branch, @secret, @token, @t)
         ON CONFLICT (app) DO UPDATE SET forge = @forge, repo = @repo, branch = @branch, secret = @secret, token = @token, created_at = @t`,
      )
      .run({ ...c, secret: this.cipher.seal(c.secret), token: c.token === null ? null : this.cipher.seal(c.token), t: now() });
    return this.getConnection(c.app)!;
  }

  deleteConnection(app: string): boolean {
    return this.db.prepare('DELETE FROM forge_connections WHERE app = ?').run(app).changes > 0;
  }

  // deliveries

  /** Records a delivery id; false when it was seen before (a replay or a redelivery). */
  claimDelivery(forge: ForgeName, id: string, app: string, event: string): boolean {
    return this.db.transaction(() => {
      this.db.prepare('DELETE FROM forge_deliveries WHERE received_at < ?').run(new Date(Date.now() - DELIVERY_RETENTION_MS).toISOString());
      const info = this.db
        .prepare(`INSERT OR IGNORE INTO forge_deliveries (forge, id, app, event, outcome, received_at) VALUES (?, ?, ?, ?, 'received', ?)`)
        .run(forge, id, app, event, now());
      return info.changes > 0;
    })();
  }

  setDeliveryOutcome(forge: ForgeName, id: string, outcome: DeliveryOutcome, reason: string | null, pr: number | null): void {
    this.db.prepare('UPDATE forge_deliveries SET outcome = ?, reason = ?, pr = COALESCE(?, pr) WHERE forge = ? AND id = ?').run(outcome, reason, pr, forge, id);
  }

  /** Pull requests whose preview was skipped or refused, newest first. */
  listPreviewRefusals(app: string, limit = 20): DeliveryRecord[] {
    return (
      this.db
        .prepare(`SELECT * FROM forge_deliveries WHERE app = ? AND pr IS NOT NULL AND outcome IN ('skipped', 'refused') ORDER BY received_at DESC LIMIT ?`)
        .all(app, limit) as Row[]
    ).map(toDelivery);
  }

  // previews

  listPreviews(parent: string): PreviewRecord[] {
    return (this.db.prepare('SELECT * FROM previews WHERE parent = ? ORDER BY number').all(parent) as Row[]).map(toPreview);
  }

  getPreview(parent: string, number: number): PreviewRecord | undefined {
    const row = this.db.prepare('SELECT * FROM previews WHERE parent = ? AND number = ?').get(parent, number) as Row | undefined;
    return row ? toPreview(row) : undefined;
  }

  previewByApp(app: string): PreviewRecord | undefined {
    const row = this.db.prepare('SELECT * FROM previews WHERE app = ?').get(app) as Row | undefined;
    return row ? toPreview(row) : undefined;
  }

  /**
   * Takes a preview slot unless `max` previews of `parent` exist already; one transaction,
   * so two pull requests opened at once cannot both take the last slot.
   * Returns false when the cap refuses it.
   */
  reservePreview(p: Omit<PreviewRecord, 'createdAt' | 'updatedAt' | 'status'>, max: number): boolean {
    return this.db.transaction(() => {
      const existing = this.getPreview(p.parent, p.number);
      const t = now();
      if (existing) {
        this.db
          .prepare(`UPDATE previews SET head_ref = ?, commit_sha = ?, status = 'deploying', updated_at = ? WHERE parent = ? AND number = ?`)
          .run(p.headRef, p.commit, t, p.parent, p.number);
        return true;
      }
      const count = (this.db.prepare('SELECT COUNT(*) AS n FROM previews WHERE parent = ?').get(p.parent) as Row).n as number;
      if (count >= max) return false;
      this.db
        .prepare(
          `INSERT INTO previews (parent, number, app, head_ref, commit_sha, status, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, 'deploying', ?, ?)`,
        )
        .run(p.parent, p.number, p.app, p.headRef, p.commit, t, t);
      return true;
    })();
  }

  setPreviewStatus(app: string, status: PreviewStatus): void {
    this.db.prepare('UPDATE previews SET status = ?, updated_at = ? WHERE app = ?').run(status, now(), app);
  }

  deletePreview(app: string): void {
    this.db.prepare('DELETE FROM previews WHERE app = ?').run(app);
  }

  // webhook work not yet done, one per app (the newest event wins)

  savePending(key: string, parent: string, eventJson: string): void {
    this.db
      .prepare(
        `INSERT INTO forge_pending (key, parent, event_json, received_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (key) DO UPDATE SET parent = excluded.parent, event_json = excluded.event_json, received_at = excluded.received_at`,
      )
      .run(key, parent, eventJson, now());
  }

  /** Removes the entry only if it still holds `eventJson` (a newer event keeps its place). */
  finishPending(key: string, eventJson: string): void {
    this.db.prepare('DELETE FROM forge_pending WHERE key = ? AND event_json = ?').run(key, eventJson);
  }

  listPending(): { key: string; parent: string; eventJson: string }[] {
    return (this.db.prepare('SELECT * FROM forge_pending ORDER BY received_at').all() as Row[]).map((r) => ({
      key: r.key as string,
      parent: r.parent as string,
      eventJson: r.event_json as string,
    }));
  }

  deletePending(key: string): void {
    this.db.prepare('DELETE FROM forge_pending WHERE key = ?').run(key);
  }
}
