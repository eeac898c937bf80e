import fs from 'node:fs/promises';
import { errorMessage, MinPaasError } from '../errors.js';
import { runGit } from './run-git.js';

export interface CloneOptions {
  url: string;
  branch: string | null;
  dest: string;
  timeoutMs: number;
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
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    GIT_ALLOW_PROTOCOL: 'http:https',
    GIT_PROTOCOL_FROM_USER: '0',
    GIT_TERMINAL_PROMPT: '0',
    GIT_ASKPASS: 'true',
    SSH_ASKPASS: 'true',
    GIT_CONFIG_NOSYSTEM: '1',
  };
  try {
    await runGit(args, { env, timeout: opts.timeoutMs, killSignal: 'SIGKILL' });
    return (await runGit(['-C', opts.dest, 'rev-parse', 'HEAD'], { env })).stdout.trim();
  } catch (err) {
    await fs.rm(opts.dest, { recursive: true, force: true });
    const killed = (err as { killed?: boolean }).killed;
    const reason = killed ? `timed out after ${Math.round(opts.timeoutMs / 1000)} s` : errorMessage(err).replace(/^fatal: /, '');
    throw new MinPaasError('CLONE_FAILED', `could not clone ${opts.url}${opts.branch ? ` (branch ${opts.branch})` : ''}: ${reason}`);
  }
}
