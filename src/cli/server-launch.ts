/**
 * How the control plane's Node process is started, wherever it is started from: the
 * `minpaas` command (its shebang), `npm start`, `scripts/setup.sh --start`, the systemd
 * unit of `minpaas server install`, and the control-plane benchmark. Both settings are read
 * by the process at its start (V8 sizes its heap, glibc its allocator, before any of our
 * code runs), so they cannot be set from inside; test/unit/server-launch.test.ts holds
 * every entry point to these values.
 */

/**
 * - `--max-semi-space-size=2`: V8's young generation stays at 2 MB per semi-space (Node
 *   20's default grows to 16 MB each, tens of MB resident once a burst of requests has
 *   grown it).
 * - `--heap-growing-percent=50`: after a full GC the old generation may grow by half of
 *   what is live before the next one (V8's default lets a small heap grow up to fourfold):
 *   request garbage promoted by the small young generation is collected before it makes
 *   the heap, and so RSS, grow.
 * Measured with 1,000 apps (bench/control-plane.ts): RSS after a burst of GET /apps
 * 142 → 93 MB, GET /apps p50/p99 unchanged within noise.
 */
export const SERVER_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=2', '--heap-growing-percent=50'];

/**
 * glibc's malloc makes up to 8 arenas per core for threads (libuv's pool, SQLite, V8's
 * GC helpers), each keeping freed memory: two are enough for a control plane.
 */
export const SERVER_ENV: Readonly<Record<string, string>> = { MALLOC_ARENA_MAX: '2' };

/** The `node` arguments before the script: the flags above. */
export function serverNodeArgs(script: string, ...args: string[]): string[] {
  return [...SERVER_NODE_FLAGS, script, ...args];
}

/** The shell form, for scripts: `MALLOC_ARENA_MAX=2 node --max-semi-space-size=2 …`. */
export function shellPrefix(): string {
  return [...Object.entries(SERVER_ENV).map(([k, v]) => `${k}=${v}`), 'node', ...SERVER_NODE_FLAGS].join(' ');
}
