import type Database from 'better-sqlite3';

/**
 * Results of whole-table reads (GET /apps over 1,000 apps reads every app, every config
 * value, and config values must be decrypted one by one), kept until the database changes.
 *
 * Exact without the writers having to remember it: a result is kept only while SQLite's
 * own counters stand still — `total_changes()` (rows this connection inserted, updated or
 * deleted, cascades included) and `data_version` (moves when another connection commits,
 * e.g. a CLI writing the same file). Any write, to any table, drops every entry; a
 * rolled-back write drops them too (the counter never goes back). Nothing is kept while
 * a transaction is open: it could still roll back what it read.
 */
export class ReadCache {
  private readonly versionOf: Database.Statement;
  private version = '';
  private readonly entries = new Map<string, unknown>();

  constructor(private readonly db: Database.Database) {
    this.versionOf = db.prepare('SELECT total_changes() AS c, (SELECT data_version FROM pragma_data_version) AS v');
  }

  /** The kept result under `key`, or `load()`'s (kept). Callers must not change what they get. */
  get<T>(key: string, load: () => T): T {
    if (this.db.inTransaction) return load();
    const row = this.versionOf.get() as { c: number; v: number };
    const version = `${row.c}:${row.v}`;
    if (version !== this.version) {
      this.entries.clear();
      this.version = version;
    }
    if (this.entries.has(key)) return this.entries.get(key) as T;
    const value = load();
    this.entries.set(key, value);
    return value;
  }
}
