import { execFile } from 'node:child_process';
import { assertAppName } from '../../domain/names.js';
import { stringFlag, UsageError } from '../args.js';
import { printJson, type Command } from '../command.js';

/** `http://x:TOKEN@HOST:PORT/APP.git`: the git remote on the same port as the API. */
export function remoteUrl(baseUrl: string, token: string, app: string): string {
  const url = new URL(baseUrl);
  url.username = 'x';
  url.password = token;
  url.pathname = `${url.pathname.replace(/\/+$/, '')}/${encodeURIComponent(app)}.git`;
  url.search = '';
  url.hash = '';
  return url.toString();
}

function git(args: string[]): Promise<{ ok: boolean; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('git', args, { encoding: 'utf8' }, (err, stdout, stderr) => resolve({ ok: !err, stdout: String(stdout), stderr: String(stderr || err?.message || '') }));
  });
}

export type RemoteAction = 'added' | 'updated' | 'unchanged' | 'printed';

/** Adds or updates remote `name` when the current directory is inside a git work tree. */
export async function applyRemote(name: string, url: string): Promise<RemoteAction> {
  const inside = await git(['rev-parse', '--is-inside-work-tree']);
  if (!inside.ok || inside.stdout.trim() !== 'true') return 'printed';
  const current = await git(['remote', 'get-url', name]);
  if (current.ok && current.stdout.trim() === url) return 'unchanged';
  const result = await git(current.ok ? ['remote', 'set-url', name, url] : ['remote', 'add', name, url]);
  if (!result.ok) throw new Error(`git could not ${current.ok ? 'update' : 'add'} remote ${name}: ${result.stderr.trim()}`);
  return current.ok ? 'updated' : 'added';
}

export const gitRemoteCommand: Command = {
  name: 'git:remote',
  args: 'APP [--name REMOTE]',
  summary: "print the app's git remote URL; inside a git work tree, add (or update) it as a remote",
  flags: [{ name: 'name', value: true, placeholder: 'REMOTE', description: 'name of the git remote (default minpaas)' }],
  min: 1,
  max: 1,
  async run({ settings, io, json, positionals, flags }) {
    const app = assertAppName(positionals[0]);
    const name = stringFlag(flags, 'name') ?? 'minpaas';
    if (!/^[A-Za-z0-9][A-Za-z0-9._/-]*$/.test(name)) throw new UsageError(`"${name}" is not a usable git remote name`);
    const { url: baseUrl, token } = settings();
    if (!token) throw new Error('no token: pass --token, set MINPAAS_TOKEN or run "minpaas login" first');
    const url = remoteUrl(baseUrl, token, app);
    const action = await applyRemote(name, url);
    if (json) {
      printJson(io, { app, remote: action === 'printed' ? null : name, url, action });
      return 0;
    }
    io.out(`${url}\n`);
    if (action === 'added') io.err(`Added git remote ${name}. Deploy with: git push ${name} main\n`);
    else if (action === 'updated') io.err(`Updated git remote ${name}. Deploy with: git push ${name} main\n`);
    else if (action === 'unchanged') io.err(`Git remote ${name} already points there. Deploy with: git push ${name} main\n`);
    return 0;
  },
};
