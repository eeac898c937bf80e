import type { FlagSpec, FlagValues } from './args.js';
import type { ApiClient } from './client.js';
import type { Settings } from './settings.js';

/** Where a command writes: stdout for results, stderr for progress and messages. */
export interface Io {
  out(text: string): void;
  err(text: string): void;
}

export const processIo: Io = {
  out: (text) => void process.stdout.write(text),
  err: (text) => void process.stderr.write(text),
};

export interface CommandContext {
  positionals: string[];
  flags: FlagValues;
  /** `--json`: print the API's JSON instead of text for people. */
  json: boolean;
  io: Io;
  /** Resolved on first use, so commands that need no server never read settings. */
  settings(): Settings;
  api(): ApiClient;
}

export interface Command {
  name: string;
  /** Positional arguments as shown in usage, e.g. "APP KEY=value…". */
  args?: string;
  summary: string;
  flags?: FlagSpec[];
  /** How many positionals the command takes. */
  min?: number;
  max?: number;
  /** True for commands that ignore --url/--token/--json (server). */
  local?: boolean;
  run(ctx: CommandContext): Promise<number>;
}

/** Prints a JSON answer for scripts. */
export function printJson(io: Io, value: unknown): void {
  io.out(`${JSON.stringify(value, null, 2)}\n`);
}
