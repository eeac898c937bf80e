import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import path from 'node:path';
import tarFs from 'tar-fs';
import { outsideLinkError } from '../build/source-tree.js';
import { errorMessage } from '../errors.js';

/**
 * Git's object locations inside a pre-receive hook. The pushed objects sit in a
 * quarantine directory until the hook accepts them; a process without these variables
 * cannot see them ("not a tree object").
 */
export interface QuarantineEnv {
  GIT_OBJECT_DIRECTORY?: string;
  GIT_ALTERNATE_OBJECT_DIRECTORIES?: string;
  GIT_QUARANTINE_PATH?: string;
}

/** Writes the tree of `sha` from bare repo `gitDir` into an emptied `destDir`. */
export async function extractCommit(gitDir: string, sha: string, destDir: string, quarantine: QuarantineEnv = {}): Promise<void> {
  if (!/^[0-9a-f]{40}([0-9a-f]{24})?$/.test(sha)) throw new Error(`not a commit id: ${sha}`);
  await fs.rm(destDir, { recursive: true, force: true });
  await fs.mkdir(destDir, { recursive: true });
  const env: NodeJS.ProcessEnv = { ...process.env, GIT_DIR: gitDir, ...quarantine };
  const git = spawn('git', ['archive', '--format=tar', sha], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  git.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number>((resolve) => git.on('close', (code) => resolve(code ?? 1)));
  try {
    await pipeline(git.stdout, tarFs.extract(destDir, { readable: true, writable: true }));
  } catch (err) {
    git.kill();
    // tar-fs refuses links whose text leads outside; say so as the build would, by path.
    const link = /^(.*) is not a valid (?:symlink|hardlink)$/.exec(errorMessage(err));
    if (link) throw outsideLinkError(path.relative(destDir, link[1]!));
    throw err;
  }
  const code = await exited;
  if (code !== 0) throw new Error(`git archive ${sha} failed: ${stderr.trim()}`);
}
