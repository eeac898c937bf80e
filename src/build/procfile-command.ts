import fs from 'node:fs/promises';
import path from 'node:path';
import { parseProcfile } from '../runtimes/procfile.js';

/** The Procfile's `web:` command, or null without a Procfile or a web entry. */
export async function procfileWeb(sourceDir: string): Promise<string | null> {
  const text = await fs.readFile(path.join(sourceDir, 'Procfile'), 'utf8').catch(() => null);
  if (text === null) return null;
  return parseProcfile(text).web ?? null;
}

/**
 * The web command as the image's CMD, appended after the labels (a final stage's last
 * CMD wins). Run by bash -c, as Heroku runs Procfile commands: variables and `&&` work,
 * and bash replaces itself with the last command (dash, Debian's sh, does not), so the
 * app itself is the child of the container's init and receives its SIGTERM.
 */
export function withCommand(dockerfile: string, command: string): string {
  return `${dockerfile.trimEnd()}\nCMD ${JSON.stringify(['/bin/bash', '-c', command])}\n`;
}
