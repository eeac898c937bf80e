import fs from 'node:fs/promises';
import { errorMessage, MinPaasError } from '../errors.js';
import { remoteGitEnv } from './clone.js';
import { runGit } from './run-git.js';

/** Credentials for a private repo, as git's `user:password` (forges accept a token as password). */
export interface GitCredentials {
  username: string;
  password: string;
}

export interface FetchCommitOptions {
  /** A validated http(s) URL without user-info. */
  url: string;
  /** The exact commit to check out. */
  commit: string;
  /** Where the commit can be found if the server refuses fetching it by id (a branch or PR ref). */
  ref: string;
  dest: string;
  timeoutMs: number;
  credentials: GitCredentials | null;
}

/** The environment git fetches in (see remoteGitEnv): http(s) only, no prompt, credentials as a header. */
export function fetchEnv(url: string, credentials: GitCredentials | null): NodeJS.ProcessEnv {
  return remoteGitEnv(url, credentials);
}

/**
 * Puts exactly `commit` into an emptied `dest`: `git init`, then a shallow fetch of the
 * commit by its id (protocol v2 servers such as GitHub, GitLab and git http-backend allow
 * it). A server that refuses gets a shallow fetch of `ref` instead, which must then still
 * point at that commit. Returns the commit.
 */
export async function fetchCommit(opts: FetchCommitOptions): Promise<string> {
  const env = fetchEnv(opts.url, opts.credentials);
  const git = (args: string[]) => runGit(['-C', opts.dest, ...args], { env, timeout: opts.timeoutMs, killSignal: 'SIGKILL' });
  await fs.rm(opts.dest, { recursive: true, force: true });
  try {
    await runGit(['init', '--quiet', opts.dest], { env });
    try {
      await git(['fetch', '--quiet', '--depth', '1', '--no-tags', '--', opts.url, opts.commit]);
    } catch {
      await git(['fetch', '--quiet', '--depth', '1', '--no-tags', '--', opts.url, opts.ref]);
      const fetched = (await git(['rev-parse', 'FETCH_HEAD'])).stdout.trim();
      if (fetched !== opts.commit) {
        throw new Error(`the server does not serve commits by id and ${opts.ref} has moved on to ${fetched.slice(0, 12)}; a later delivery deploys it`);
      }
    }
    await git(['checkout', '--quiet', '--detach', opts.commit]);
    const head = (await git(['rev-parse', 'HEAD'])).stdout.trim();
    if (head !== opts.commit) throw new Error(`checked out ${head}, not ${opts.commit}`);
    return head;
  } catch (err) {
    await fs.rm(opts.dest, { recursive: true, force: true });
    const killed = (err as { killed?: boolean }).killed;
    const reason = killed ? `timed out after ${Math.round(opts.timeoutMs / 1000)} s` : errorMessage(err).replace(/^fatal: /, '');
    throw new MinPaasError('CLONE_FAILED', `could not fetch commit ${opts.commit.slice(0, 12)} from ${opts.url}: ${reason}`);
  }
}
