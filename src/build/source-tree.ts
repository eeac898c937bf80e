import fs from 'node:fs/promises';
import path from 'node:path';
import { MinPaasError } from '../errors.js';

/** Deepest directory nesting looked at; a deeper tree is refused rather than walked forever. */
const MAX_DEPTH = 64;

/**
 * Refuses a source tree that would carry something from outside into the build: a
 * symlink that resolves outside the tree (absolute, `..`, or a chain of relative links
 * that ends outside), or a device, FIFO or socket. `.git` is not sent and not checked.
 * The message names the path, never what it points at or contains.
 */
export async function assertSelfContained(sourceDir: string): Promise<void> {
  const root = await fs.realpath(sourceDir);
  await walk(root, root, 0);
}

async function walk(root: string, dir: string, depth: number): Promise<void> {
  if (depth > MAX_DEPTH) refuse(path.relative(root, dir), `is nested more than ${MAX_DEPTH} directories deep`);
  for (const entry of await fs.readdir(dir, { withFileTypes: true })) {
    const file = path.join(dir, entry.name);
    const rel = path.relative(root, file);
    if (depth === 0 && entry.name === '.git') continue;
    if (entry.isSymbolicLink()) await checkLink(root, file, rel);
    else if (entry.isDirectory()) await walk(root, file, depth + 1);
    else if (!entry.isFile()) refuse(rel, 'is a device, FIFO or socket, not a file');
  }
}

async function checkLink(root: string, file: string, rel: string): Promise<void> {
  let target: string;
  try {
    target = await fs.realpath(file);
  } catch {
    // Dangling (or a loop): judge the link text itself.
    target = path.resolve(path.dirname(file), await fs.readlink(file));
  }
  if (target !== root && !target.startsWith(`${root}${path.sep}`)) throw outsideLinkError(rel);
}

/** The refusal of a link (at `rel` in the tree) that points outside the repository. */
export function outsideLinkError(rel: string): MinPaasError {
  return refusal(rel, 'is a symlink that points outside the repository');
}

function refuse(rel: string, why: string): never {
  throw refusal(rel, why);
}

function refusal(rel: string, why: string): MinPaasError {
  return new MinPaasError(
    'CONTRACT_VIOLATED',
    `${JSON.stringify(rel.length > 200 ? `${rel.slice(0, 200)}…` : rel)} ${why}; MinPaas builds only what is inside the repository: remove it or make it a regular file`,
  );
}
