import type Database from 'better-sqlite3';
import type { ValueCipher } from '../secrets/cipher.js';

type Row = Record<string, unknown>;

/** Every column that holds a secret, with the key of its rows. A new secret column is added here. */
export const SEALED_COLUMNS: readonly { table: string; key: string; column: string }[] = [
  { table: 'env', key: 'rowid', column: 'value' },
  { table: 'releases', key: 'rowid', column: 'env_json' },
  { table: 'forge_connections', key: 'rowid', column: 'secret' },
  { table: 'forge_connections', key: 'rowid', column: 'token' },
];

/**
 * Seals every value that is plaintext (rows from before encryption) or sealed with a key
 * other than the current one (a rotation). One short transaction per batch, so requests
 * keep being served in between; either key opens a value meanwhile. Returns how many.
 */
export function resealAll(db: Database.Database, cipher: ValueCipher, batch = 200): number {
  const current = cipher.currentKeyId();
  if (current === null) return 0;
  let changed = 0;
  for (const { table, key, column } of SEALED_COLUMNS) {
    const select = db.prepare(`SELECT ${key} AS k, ${column} AS v FROM ${table} WHERE ${column} IS NOT NULL AND ${key} > ? ORDER BY ${key} LIMIT ?`);
    const update = db.prepare(`UPDATE ${table} SET ${column} = ? WHERE ${key} = ? AND ${column} = ?`);
    let after = -1;
    for (;;) {
      const rows = select.all(after, batch) as Row[];
      if (rows.length === 0) break;
      db.transaction(() => {
        for (const row of rows) {
          const stored = row.v as string;
          if (cipher.keyOf(stored) === current) continue;
          // The WHERE on the old value: a write that raced this batch keeps its newer value.
          changed += update.run(cipher.seal(cipher.open(stored)), row.k, stored).changes;
        }
      })();
      after = rows[rows.length - 1]!.k as number;
    }
  }
  return changed;
}

/** How many stored values are not sealed with the current key. */
export function unsealedCount(db: Database.Database, cipher: ValueCipher): number {
  let n = 0;
  for (const { table, column } of SEALED_COLUMNS) {
    for (const row of db.prepare(`SELECT ${column} AS v FROM ${table} WHERE ${column} IS NOT NULL`).all() as Row[]) {
      if (cipher.keyOf(row.v as string) !== cipher.currentKeyId()) n++;
    }
  }
  return n;
}
