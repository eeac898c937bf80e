import { parseLineCount, stringFlag } from '../args.js';
import { appPath } from '../client.js';
import type { Command, CommandContext } from '../command.js';

/** Streams `GET /apps/APP/logs?follow=1` until the server ends it or Ctrl-C (exit 0 either way). */
async function follow(ctx: CommandContext, path: string): Promise<number> {
  const { response, close } = await ctx.api().open('GET', path);
  return new Promise<number>((resolve, reject) => {
    let settled = false;
    const settle = (err?: Error): void => {
      if (settled) return;
      settled = true;
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      if (err) reject(err);
      else resolve(0);
    };
    const onSignal = (): void => {
      settle();
      close();
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    response.on('data', (chunk: Buffer) => ctx.io.out(chunk.toString('utf8')));
    response.on('end', () => settle());
    response.on('error', (err) => settle(new Error(`the log stream broke off: ${err.message}`)));
    response.on('close', () => settle(response.complete ? undefined : new Error('the log stream broke off')));
  });
}

export const logsCommand: Command = {
  name: 'logs',
  args: 'APP [-n N] [-f] [-p worker.1]',
  summary: "show an app's recent output; -f keeps streaming it (Ctrl-C ends)",
  flags: [
    { name: 'tail', short: 'n', value: true, placeholder: 'N', description: 'how many recent lines (default 100)' },
    { name: 'follow', short: 'f', value: false, description: 'keep streaming new lines' },
    { name: 'process', short: 'p', value: true, placeholder: 'TYPE.N', description: 'one process (see minpaas ps; default web.1)' },
  ],
  min: 1,
  max: 1,
  async run(ctx) {
    const app = ctx.positionals[0]!;
    const tail = stringFlag(ctx.flags, 'tail');
    const query = new URLSearchParams();
    if (tail !== undefined) query.set('tail', String(parseLineCount(tail)));
    const process = stringFlag(ctx.flags, 'process');
    if (process !== undefined) query.set('process', process);
    if (ctx.flags.follow) {
      query.set('follow', '1');
      return follow(ctx, appPath(app, `/logs?${query}`));
    }
    const text = await ctx.api().text(appPath(app, `/logs${query.toString() ? `?${query}` : ''}`));
    ctx.io.out(text);
    return 0;
  },
};
