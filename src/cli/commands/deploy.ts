import type { AppRecord } from '../../domain/types.js';
import { stringFlag, UsageError } from '../args.js';
import { apiErrorFrom, type ApiError } from '../client.js';
import { printJson, type Command, type Io } from '../command.js';
import { formatRelease } from '../table.js';

/** The last line of `POST /deploy?stream=1`: the app, or what went wrong. */
export type DeployOutcome = { app: AppRecord } | { error: ApiError };

/**
 * Handles one NDJSON line of a streamed deploy: build log lines go to stderr as they
 * arrive; the final `{app}` or `{error}` line is returned.
 */
export function handleDeployLine(line: unknown, raw: string, io: Io): DeployOutcome | undefined {
  if (typeof line !== 'object' || line === null) {
    io.err(`${raw}\n`);
    return undefined;
  }
  const obj = line as Record<string, unknown>;
  if (typeof obj.log === 'string') {
    io.err(`${obj.log}\n`);
    return undefined;
  }
  const error = apiErrorFrom(typeof obj.status === 'number' ? obj.status : 500, obj);
  if (error) return { error };
  if (typeof obj.app === 'object' && obj.app !== null) return { app: obj.app as AppRecord };
  io.err(`${raw}\n`);
  return undefined;
}

export const deployCommand: Command = {
  name: 'deploy',
  args: 'APP --repo URL --runtime R [--branch B] [--builder dockerfile]',
  summary: 'clone a git repository, build it with runtime R (node or python) and release it; streams the build log',
  flags: [
    { name: 'repo', value: true, placeholder: 'URL', description: 'http(s) URL of the git repository' },
    { name: 'runtime', value: true, placeholder: 'node|python', description: 'the runtime to build with (required)' },
    { name: 'builder', value: true, placeholder: 'platform|dockerfile', description: "dockerfile: build the repo's own Dockerfile (stored with the app)" },
    { name: 'branch', value: true, placeholder: 'BRANCH', description: 'branch to deploy (default: the repo default branch)' },
  ],
  min: 1,
  max: 1,
  async run({ api, io, json, positionals, flags }) {
    const app = positionals[0]!;
    const repo = stringFlag(flags, 'repo');
    const runtime = stringFlag(flags, 'runtime');
    const branch = stringFlag(flags, 'branch');
    if (!repo) throw new UsageError('deploy needs --repo URL (an http:// or https:// git repository)');
    const builder = stringFlag(flags, 'builder');
    if (!runtime && builder !== 'dockerfile') throw new UsageError('deploy needs --runtime node or --runtime python');
    const body = { app, ...(runtime ? { runtime } : {}), repo, ...(branch ? { branch } : {}), ...(builder ? { builder } : {}) };

    io.err(`Deploying ${app} from ${repo}${branch ? ` (${branch})` : ''}…\n`);
    let outcome: DeployOutcome | undefined;
    // Leaving does not cancel the build: the server finishes (or fails) it on its own.
    const onSignal = (): void => {
      io.err(`\nminpaas: stopped watching; the deploy of ${app} goes on on the server (see "minpaas releases ${app}")\n`);
      process.exit(130);
    };
    process.once('SIGINT', onSignal);
    try {
      await api().ndjson('POST', '/deploy?stream=1', body, (line, raw) => {
        outcome = handleDeployLine(line, raw, io) ?? outcome;
      });
    } finally {
      process.off('SIGINT', onSignal);
    }
    if (!outcome) {
      throw new Error(`the server closed the connection before the deploy of ${app} finished; see "minpaas releases ${app}"`);
    }
    if ('error' in outcome) throw outcome.error;
    if (json) printJson(io, outcome.app);
    else io.out(`Deployed ${outcome.app.name} ${formatRelease(outcome.app.release)}: ${outcome.app.url}\n`);
    return 0;
  },
};
