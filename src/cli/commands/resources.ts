import type { AppRecord } from '../../domain/types.js';
import { stringFlag, UsageError } from '../args.js';
import { appPath } from '../client.js';
import { printJson, type Command } from '../command.js';
import { renderPairs } from '../table.js';

function resourcesText(app: AppRecord): string {
  return renderPairs([
    ['Memory', app.resources.memory],
    ['CPUs', app.resources.cpus === null ? 'none' : String(app.resources.cpus)],
    ['Restarts', String(app.restarts)],
  ]);
}

/** Flag values go to the API as given; `default` means back to the installation's default. */
function limit(raw: string | undefined): string | null | undefined {
  if (raw === undefined) return undefined;
  return raw === 'default' ? null : raw;
}

export const resourcesCommands: Command[] = [
  {
    name: 'resources',
    args: 'APP',
    summary: "show an app's memory and CPU limits",
    min: 1,
    max: 1,
    async run({ api, io, json, positionals }) {
      const app = await api().json<AppRecord>('GET', appPath(positionals[0]!));
      if (json) printJson(io, { resources: app.resources, restarts: app.restarts });
      else io.out(resourcesText(app));
      return 0;
    },
  },
  {
    name: 'resources:set',
    args: 'APP [--memory SIZE] [--cpus N]',
    summary: 'change memory/CPU limits of the running app in place (no rebuild, no restart)',
    flags: [
      { name: 'memory', value: true, placeholder: 'SIZE', description: 'e.g. 512m or 1g; "none" lifts the limit, "default" restores the default' },
      { name: 'cpus', value: true, placeholder: 'N', description: 'e.g. 0.5 or 2; "none" lifts the limit, "default" restores the default' },
    ],
    min: 1,
    max: 1,
    async run({ api, io, json, positionals, flags }) {
      const memory = limit(stringFlag(flags, 'memory'));
      const cpus = limit(stringFlag(flags, 'cpus'));
      if (memory === undefined && cpus === undefined) throw new UsageError('resources:set needs --memory and/or --cpus');
      const body: Record<string, string | null> = {};
      if (memory !== undefined) body.memory = memory;
      if (cpus !== undefined) body.cpus = cpus;
      const app = await api().json<AppRecord>('PATCH', appPath(positionals[0]!, '/resources'), body);
      if (json) printJson(io, app);
      else io.out(resourcesText(app));
      return 0;
    },
  },
];
