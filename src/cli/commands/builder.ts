import type { AppRecord } from '../../domain/types.js';
import { stringFlag } from '../args.js';
import { appPath } from '../client.js';
import { printJson, type Command } from '../command.js';

/** Apps before their first deploy, and how an app is built. */
export const appSetupCommands: Command[] = [
  {
    name: 'apps:create',
    args: 'APP [--runtime node|python] [--builder dockerfile] [--scheduler swarm]',
    summary: 'create an empty app (its port, no release yet): set its config, then push',
    flags: [
      { name: 'runtime', value: true, placeholder: 'node|python', description: 'its runtime (else the first push detects it)' },
      { name: 'builder', value: true, placeholder: 'platform|dockerfile', description: "dockerfile: build the repo's own Dockerfile" },
      { name: 'scheduler', value: true, placeholder: 'docker-local|swarm', description: 'where it runs (else MINPAAS_DEFAULT_SCHEDULER)' },
    ],
    min: 1,
    max: 1,
    async run({ api, io, json, positionals, flags }) {
      const runtime = stringFlag(flags, 'runtime');
      const builder = stringFlag(flags, 'builder');
      const scheduler = stringFlag(flags, 'scheduler');
      const body = { name: positionals[0]!, ...(runtime ? { runtime } : {}), ...(builder ? { builder } : {}), ...(scheduler ? { scheduler } : {}) };
      const app = await api().json<AppRecord>('POST', '/apps', body);
      if (json) printJson(io, app);
      else io.out(`Created ${app.name}: ${app.url} (no release yet; push to deploy it)\n`);
      return 0;
    },
  },
  {
    name: 'builder:set',
    args: 'APP platform|dockerfile',
    summary: "how the app's next build is made: the platform's own build (default) or the repo's Dockerfile",
    min: 2,
    max: 2,
    async run({ api, io, json, positionals }) {
      const [name, builder] = positionals as [string, string];
      const app = await api().json<AppRecord>('PUT', `${appPath(name)}/builder`, { builder });
      if (json) printJson(io, app);
      else io.out(`${app.name} now builds with ${app.builder === 'dockerfile' ? 'its own Dockerfile' : 'the platform build'} (from the next push or deploy).\n`);
      return 0;
    },
  },
];
