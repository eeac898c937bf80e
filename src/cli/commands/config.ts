import type { EnvVars } from '../../domain/types.js';
import { parseAssignments, UsageError } from '../args.js';
import { appPath } from '../client.js';
import { printJson, type Command, type CommandContext } from '../command.js';
import { formatRelease, formatValue, listWords, renderPairs } from '../table.js';

interface PatchAnswer {
  config: EnvVars;
  release: number | null;
}

/** `KEY:  value` lines, sorted by name. */
export function configText(app: string, config: EnvVars): string {
  const keys = Object.keys(config).sort();
  if (keys.length === 0) return `${app} has no config vars.\n`;
  return renderPairs(keys.map((key) => [key, formatValue(config[key]!)] as const));
}

/** PATCH /apps/APP/config, with progress: a running app gets a new release. */
async function patch(ctx: CommandContext, changes: Record<string, string | null>, verb: string): Promise<number> {
  const app = ctx.positionals[0]!;
  const keys = Object.keys(changes);
  ctx.io.err(`${verb} ${listWords(keys)} on ${app}…\n`);
  const answer = await ctx.api().json<PatchAnswer>('PATCH', appPath(app, '/config'), changes);
  if (ctx.json) {
    printJson(ctx.io, answer);
    return 0;
  }
  ctx.io.err(answer.release === null ? 'done (stored; the app has no release yet)\n' : `done, ${formatRelease(answer.release)}\n`);
  const set = keys.filter((key) => changes[key] !== null && key in answer.config);
  if (set.length) ctx.io.out(renderPairs(set.map((key) => [key, formatValue(answer.config[key]!)] as const)));
  return 0;
}

export const configCommands: Command[] = [
  {
    name: 'config',
    args: 'APP',
    summary: "show an app's config vars",
    min: 1,
    max: 1,
    async run({ api, io, json, positionals }) {
      const config = await api().json<EnvVars>('GET', appPath(positionals[0]!, '/config'));
      if (json) printJson(io, config);
      else io.out(configText(positionals[0]!, config));
      return 0;
    },
  },
  {
    name: 'config:set',
    args: 'APP KEY=value…',
    summary: 'set config vars (a new release, no rebuild)',
    min: 2,
    async run(ctx) {
      return patch(ctx, parseAssignments(ctx.positionals.slice(1)), 'Setting');
    },
  },
  {
    name: 'config:unset',
    args: 'APP KEY…',
    summary: 'remove config vars (a new release, no rebuild)',
    min: 2,
    async run(ctx) {
      const changes: Record<string, null> = {};
      for (const key of ctx.positionals.slice(1)) {
        if (key.includes('=')) throw new UsageError(`config:unset takes names, not KEY=value ("${key}")`);
        changes[key] = null;
      }
      return patch(ctx, changes, 'Unsetting');
    },
  },
];
