/**
 * Commands, steps and clean-up for the two-node swarm bench. Every command that fails
 * throws a CommandError carrying the exact command line and its stderr, so the bench can
 * say exactly what failed (the issue asks for that when the second node does not work).
 */
import { execFile } from 'node:child_process';

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

export class CommandError extends Error {
  constructor(
    readonly command: string,
    readonly result: ExecResult,
  ) {
    super(`command failed (exit ${result.code}): ${command}\n${result.stderr.trim() || result.stdout.trim() || '(no output)'}`);
  }
}

/** Quotes an argument for display only (nothing is run through a shell). */
const shown = (arg: string): string => (/^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`);

export function commandLine(cmd: string, args: string[]): string {
  return [cmd, ...args].map(shown).join(' ');
}

/** Runs a command; never rejects. */
export function exec(cmd: string, args: string[], opts: { timeoutMs?: number; input?: string; env?: NodeJS.ProcessEnv } = {}): Promise<ExecResult> {
  return new Promise((resolve) => {
    const child = execFile(cmd, args, { timeout: opts.timeoutMs ?? 300_000, maxBuffer: 64 << 20, env: opts.env ?? process.env }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      const extra = err && code === 1 && !stderr ? String(err.message) : '';
      resolve({ code, stdout: String(stdout), stderr: String(stderr) + extra });
    });
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

/** Runs a command; throws a CommandError unless it exits 0. Resolves to its trimmed stdout. */
export async function must(cmd: string, args: string[], opts: { timeoutMs?: number; input?: string } = {}): Promise<string> {
  const res = await exec(cmd, args, opts);
  if (res.code !== 0) throw new CommandError(commandLine(cmd, args), res);
  return res.stdout.trim();
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Retries `check` until it resolves to a value that is not undefined, or throws with `what` after `timeoutMs`. */
export async function waitFor<T>(what: string, timeoutMs: number, check: () => Promise<T | undefined>, intervalMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`${what}: not within ${Math.round(timeoutMs / 1000)} s${last ? `\nlast error: ${last instanceof Error ? last.message : String(last)}` : ''}`);
    }
    await sleep(intervalMs);
  }
}

/**
 * Undo actions, run last-in first-out, once, whatever way the bench ends (normal end,
 * failure, Ctrl-C). A failing undo is reported and the others still run.
 */
export class CleanupStack {
  private readonly actions: { name: string; fn: () => Promise<void> }[] = [];
  private running: Promise<string[]> | null = null;

  push(name: string, fn: () => Promise<void>): void {
    this.actions.push({ name, fn });
  }

  run(): Promise<string[]> {
    this.running ??= (async () => {
      const problems: string[] = [];
      for (let a = this.actions.pop(); a; a = this.actions.pop()) {
        try {
          await a.fn();
        } catch (err) {
          problems.push(`${a.name}: ${err instanceof Error ? err.message : String(err)}`);
        }
      }
      return problems;
    })();
    return this.running;
  }
}

export interface StepRecord {
  name: string;
  ms: number;
  ok: boolean;
  detail: string;
}

/** Named, timed steps; each prints one line as it ends. */
export class Steps {
  readonly records: StepRecord[] = [];

  async run<T>(name: string, fn: () => Promise<T>, detail?: (value: T) => string): Promise<T> {
    const started = performance.now();
    try {
      const value = await fn();
      const ms = performance.now() - started;
      const d = detail ? detail(value) : '';
      this.records.push({ name, ms, ok: true, detail: d });
      console.log(`  ok   ${name.padEnd(54)} ${(ms / 1000).toFixed(2).padStart(7)} s${d ? `  ${d}` : ''}`);
      return value;
    } catch (err) {
      const ms = performance.now() - started;
      const d = err instanceof Error ? err.message : String(err);
      this.records.push({ name, ms, ok: false, detail: d });
      console.log(`  FAIL ${name.padEnd(54)} ${(ms / 1000).toFixed(2).padStart(7)} s\n${d.replace(/^/gm, '       ')}`);
      throw err;
    }
  }
}
