import fs from 'node:fs/promises';
import path from 'node:path';

/** What group and other may do in the data dir: nothing. */
const GROUP_OTHER = 0o077;

/**
 * The data dir holds every secret (the token, config vars in minpaas.db, deploy logs,
 * clones): only the server's user may read it. Sets the process umask to 077 (git,
 * SQLite, HAProxy and the server then create owner-only files), creates the dir with
 * mode 0700, and takes group/other bits off whatever an older version left readable.
 * Returns how many modes it fixed. Symlinks are not followed.
 */
export async function restrictToOwner(dataDir: string): Promise<number> {
  process.umask(GROUP_OTHER);
  await fs.mkdir(dataDir, { recursive: true, mode: 0o700 });
  // The data dir itself may be a symlink (to another disk): its target is fixed.
  return fixModes(await fs.realpath(dataDir));
}

async function fixModes(file: string): Promise<number> {
  const stat = await fs.lstat(file);
  if (stat.isSymbolicLink()) return 0;
  let fixed = 0;
  if ((stat.mode & GROUP_OTHER) !== 0) {
    await fs.chmod(file, stat.mode & 0o700);
    fixed++;
  }
  if (stat.isDirectory()) {
    for (const name of await fs.readdir(file)) fixed += await fixModes(path.join(file, name));
  }
  return fixed;
}
