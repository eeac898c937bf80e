import Database from 'better-sqlite3';

/**
 * A consistent copy of the store while the server runs: SQLite's online backup API reads
 * the database page by page on its own connection (WAL readers do not block the writer),
 * so the copy is one point in time, with every committed transaction and none half-done.
 */
export async function backupDatabase(dbFile: string, dest: string): Promise<void> {
  const db = new Database(dbFile, { fileMustExist: true });
  try {
    db.pragma('busy_timeout = 5000');
    await db.backup(dest);
  } finally {
    db.close();
  }
  // The copy is a single file: no -wal to carry along.
  const copy = new Database(dest);
  try {
    copy.pragma('journal_mode = DELETE');
  } finally {
    copy.close();
  }
}

/** "ok", or what SQLite found wrong with a database file (a restore checks before it writes). */
export function checkDatabase(file: string): string {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return String(db.pragma('integrity_check', { simple: true }));
  } finally {
    db.close();
  }
}
