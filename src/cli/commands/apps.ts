import type { AppRecord } from '../../domain/types.js';
import { stringFlag } from '../args.js';
import { appPath } from '../client.js';
import { printJson, type Command } from '../command.js';
import { formatRelease, formatTime, renderPairs, renderTable } from '../table.js';

/** The `apps` table: one row per app. */
export function appsTable(apps: readonly AppRecord[]): string {
  return renderTable(
    ['NAME', 'RUNTIME', 'RELEASE', 'STATUS', 'URL'],
    apps.map((a) => [a.name, a.runtime, formatRelease(a.release), a.status, a.url]),
  );
}

/** `apps:info`: one app as `Key:  value` lines. */
export function appInfo(app: AppRecord): string {
  const vars = Object.keys(app.env ?? {}).sort();
  return renderPairs([
    ['Name', app.name],
    ['Runtime', app.runtime],
    ['Builder', app.builder === 'dockerfile' ? "the app's Dockerfile" : 'platform'],
    ['Scheduler', app.scheduler],
    ['Release', formatRelease(app.release)],
    ['Status', app.status],
    ['URL', app.url],
    ['Port', String(app.port)],
    ['Repo', app.repo ?? '(git push)'],
    ['Branch', app.branch ?? '-'],
    ['Image', app.image ?? '-'],
    ['Container', app.container ?? '-'],
    ['Limits', `memory ${app.resources?.memory ?? '-'}, cpus ${app.resources?.cpus ?? 'none'}`],
    ['Restarts', String(app.restarts ?? 0)],
    ['Config vars', vars.length ? vars.join(', ') : '-'],
    ['Created', formatTime(app.createdAt)],
    ['Updated', formatTime(app.updatedAt)],
  ]);
}

export const appsCommands: Command[] = [
  {
    name: 'apps',
    summary: 'list apps',
    max: 0,
    async run({ api, io, json }) {
      const apps = await api().json<AppRecord[]>('GET', '/apps');
      if (json) printJson(io, apps);
      else if (apps.length === 0) io.out('No apps yet. Deploy one with "minpaas deploy APP --repo URL --runtime node" or git push.\n');
      else io.out(appsTable(apps));
      return 0;
    },
  },
  {
    name: 'apps:info',
    args: 'APP',
    summary: "show an app's record",
    min: 1,
    max: 1,
    async run({ api, io, json, positionals }) {
      const app = await api().json<AppRecord>('GET', appPath(positionals[0]!));
      if (json) printJson(io, app);
      else io.out(appInfo(app));
      return 0;
    },
  },
  {
    name: 'apps:destroy',
    args: 'APP --confirm APP',
    summary: 'stop and delete an app, its releases, config, repo and images',
    flags: [{ name: 'confirm', value: true, placeholder: 'APP', description: 'the app name again, to confirm' }],
    min: 1,
    max: 1,
    async run({ api, io, json, positionals, flags }) {
      const app = positionals[0]!;
      const confirm = stringFlag(flags, 'confirm');
      if (confirm !== app) {
        io.err(
          confirm === undefined
            ? `minpaas: this permanently destroys ${app}; to go ahead, run: minpaas apps:destroy ${app} --confirm ${app}\n`
            : `minpaas: --confirm ${confirm} does not match ${app}; nothing was destroyed\n`,
        );
        return 1;
      }
      if (!json) io.err(`Destroying ${app}…\n`);
      const result = await api().json<unknown>('DELETE', appPath(app));
      if (json) printJson(io, result);
      else io.out(`Destroyed ${app}.\n`);
      return 0;
    },
  },
];
