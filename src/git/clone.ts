import fs from 'node:fs/promises';
import { redactUrlsIn, type RepoCredentials } from '../domain/repo-url.js';
import { errorMessage, MinPaasError } from '../errors.js';
import { runGit } from './run-git.js';

export interface CloneOptions {
  /** A validated http(s) URL without user-info. */
  url: string;
  /** How the URL is shown in messages (user-info redacted). */
  shown?: string;
  branch: string | null;
  dest: string;
  timeoutMs: number;
  /** Sent as HTTP Basic auth to the URL's host only; never on a command line or in .git/config. */
  credentials?: RepoCredentials | null;
}

/**
 * git config given through the environment (GIT_CONFIG_COUNT/KEY/VALUE): visible to the
 * git process only, not in `ps` and not written to the clone's .git/config. Entries
 * already in `base` (e.g. the server's own) are kept.
 */
export function gitConfigEnv(base: NodeJS.ProcessEnv, entries: [string, string][]): NodeJS.ProcessEnv {
  const existing = Number(base.GIT_CONFIG_COUNT ?? 0);
  const start = Number.isInteger(existing) && existing > 0 ? existing : 0;
  const env: NodeJS.ProcessEnv = { GIT_CONFIG_COUNT: String(start + entries.length) };
  entries.forEach(([key, value], i) => {
    env[`GIT_CONFIG_KEY_${start + i}`] = key;
    env[`GIT_CONFIG_VALUE_${start + i}`] = value;
  });
  return env;
}

/** An Authorization header for the URL's origin only (not for a host a redirect leads to). */
export function credentialConfig(url: string, credentials: RepoCredentials): [string, string][] {
  const basic = Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64');
  return [[`http.${new URL(url).origin}/.extraHeader`, `Authorization: Basic ${basic}`]];
}

/**
 * The environment git talks to a remote repo in: http(s) only (even across redirects and
 * submodules), never a prompt, no system config. Credentials travel as an Authorization
 * header scoped to the repo's origin (GIT_CONFIG_* variables): never on a command line,
 * never in a URL or a repo's config.
 */
export function remoteGitEnv(url: string, credentials: RepoCredentials | null | undefined): NodeJS.ProcessEnv {
  return {
    ...process.env,
    GIT_ALLOW_PROTOCOL: 'http:https',
    GIT_PROTOCOL_FROM_USER: '0',
    GIT_TERMINAL_PROMPT: '0',
    GIT_ASKPASS: 'true',
    SSH_ASKPASS: 'true',
    GIT_CONFIG_NOSYSTEM: '1',
    ...(credentials ? gitConfigEnv(process.env, credentialConfig(url, credentials)) : {}),
  };
}

/**
 * Shallow-clones a validated http(s) URL into an emptied `dest`; returns the commit.
 * The environment pins git to http(s) even across redirects and submodules, and never
 * lets it prompt for credentials.
 */
export async function cloneRepo(opts: CloneOptions): Promise<string> {
  await fs.rm(opts.dest, { recursive: true, force: true });
  const args = ['clone', '--quiet', '--depth', '1', '--single-branch', '--no-tags'];
  if (opts.branch) args.push('--branch', opts.branch);
  args.push('--', opts.url, opts.dest);
  const env = remoteGitEnv(opts.url, opts.credentials);
  const shown = opts.shown ?? opts.url;
  try {
    await runGit(args, { env, timeout: opts.timeoutMs, killSignal: 'SIGKILL' });
    return (await runGit(['-C', opts.dest, 'rev-parse', 'HEAD'], { env })).stdout.trim();
  } catch (err) {
    await fs.rm(opts.dest, { recursive: true, force: true });
    const killed = (err as { killed?: boolean }).killed;
    const reason = killed ? `timed out after ${Math.round(opts.timeoutMs / 1000)} s` : redactUrlsIn(errorMessage(err).replace(/^fatal: /, ''));
    throw new MinPaasError('CLONE_FAILED', `could not clone ${shown}${opts.branch ? ` (branch ${opts.branch})` : ''}: ${reason}`);
  }
}
