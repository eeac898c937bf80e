/**
 * Command-line argument parsing: positionals and `--flag`, `--flag value`, `--flag=value`,
 * `-f`, `-n 5`, `-n5`; `--` ends the flags. Unknown flags are usage errors.
 */
import { parseReleaseNumber as releaseNumber } from '../domain/releases.js';

/** A mistake in how the command was called; shown with the command's usage, exit 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export interface FlagSpec {
  /** Long name without dashes, e.g. "tail". */
  name: string;
  /** One-letter alias without the dash, e.g. "n". */
  short?: string;
  /** True when the flag takes a value (`--repo URL`); false for a switch (`--json`). */
  value: boolean;
  /** Shown in the command's help, e.g. "URL". */
  placeholder?: string;
  description: string;
}

export type FlagValues = Record<string, string | boolean | undefined>;

export interface ParsedArgs {
  positionals: string[];
  flags: FlagValues;
}

function findFlag(specs: readonly FlagSpec[], token: string): FlagSpec | undefined {
  return token.startsWith('--') ? specs.find((s) => s.name === token.slice(2)) : specs.find((s) => s.short === token.slice(1));
}

/** Parses `argv` (without the command name) against the flags the command accepts. */
export function parseArgs(argv: readonly string[], specs: readonly FlagSpec[]): ParsedArgs {
  const positionals: string[] = [];
  const flags: FlagValues = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (arg === '-' || !arg.startsWith('-')) {
      positionals.push(arg);
      continue;
    }
    let token = arg;
    let inline: string | undefined;
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      if (eq > 0) {
        token = arg.slice(0, eq);
        inline = arg.slice(eq + 1);
      }
    } else if (arg.length > 2) {
      // -n5 or -n=5
      token = arg.slice(0, 2);
      inline = arg.slice(2).replace(/^=/, '');
    }
    const spec = findFlag(specs, token);
    if (!spec) throw new UsageError(`unknown option ${token}`);
    if (!spec.value) {
      if (inline !== undefined) throw new UsageError(`option --${spec.name} takes no value`);
      flags[spec.name] = true;
      continue;
    }
    if (inline === undefined) {
      const next = argv[i + 1];
      if (next === undefined) throw new UsageError(`option --${spec.name} needs a value${spec.placeholder ? ` (${spec.placeholder})` : ''}`);
      inline = next;
      i++;
    }
    if (flags[spec.name] !== undefined) throw new UsageError(`option --${spec.name} is given more than once`);
    flags[spec.name] = inline;
  }
  return { positionals, flags };
}

/** A value flag's string, or undefined when it was not given. */
export function stringFlag(flags: FlagValues, name: string): string | undefined {
  const value = flags[name];
  return typeof value === 'string' ? value : undefined;
}

/** `v3` or `3` → 3. */
export function parseReleaseNumber(raw: string): number {
  const n = releaseNumber(raw);
  if (n === null) throw new UsageError(`"${raw}" is not a release: use its number, e.g. v3 or 3`);
  return n;
}

/** A whole number of lines for `logs -n`. */
export function parseLineCount(raw: string): number {
  if (!/^\d{1,9}$/.test(raw)) throw new UsageError(`-n needs a whole number of lines, got "${raw}"`);
  return Number(raw);
}

/** `K=V` pairs for config:set; the value may itself contain `=` and may be empty. */
export function parseAssignments(pairs: readonly string[]): Record<string, string> {
  const result: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new UsageError(`"${pair}" is not KEY=value`);
    const key = pair.slice(0, eq);
    if (key in result) throw new UsageError(`${key} is given more than once`);
    result[key] = pair.slice(eq + 1);
  }
  return result;
}
