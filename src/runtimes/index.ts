import { MinPaasError } from '../errors.js';
import type { RuntimeName } from '../domain/types.js';
import { nodeRuntime } from './node.js';
import { procfileWeb, pythonRuntime } from './python.js';
import type { Runtime, SourceFiles } from './runtime.js';

export type { Runtime, SourceFiles } from './runtime.js';
export { directoryFiles, memoryFiles } from './runtime.js';

/** Detection order: the first runtime whose files are present wins. */
export const RUNTIMES: readonly Runtime[] = [nodeRuntime, pythonRuntime];

export function isRuntimeName(name: unknown): name is RuntimeName {
  return RUNTIMES.some((r) => r.name === name);
}

export function runtimeByName(name: RuntimeName): Runtime {
  const runtime = RUNTIMES.find((r) => r.name === name);
  if (!runtime) throw new Error(`unknown runtime ${name}`);
  return runtime;
}

/**
 * First match wins, node before python, except that a Procfile whose web process is
 * python/gunicorn/uvicorn says which language the app is (a Python app with a
 * package.json for its assets).
 */
export async function detectRuntime(files: SourceFiles): Promise<Runtime | undefined> {
  const web = await procfileWeb(files).catch(() => undefined);
  if (web !== undefined && /^(python3?|gunicorn|uvicorn)(\s|$)/.test(web)) return pythonRuntime;
  for (const runtime of RUNTIMES) if (await runtime.detect(files)) return runtime;
  return undefined;
}

/** Why nothing was detected: what each runtime looks for, plus a hint for an app.py alone. */
async function nothingDetected(files: SourceFiles): Promise<MinPaasError> {
  const hint = (await files.has('app.py'))
    ? '; app.py alone is not enough: add a requirements.txt (it may be empty)'
    : '';
  return new MinPaasError(
    'CONTRACT_VIOLATED',
    'no supported app found: the top level of the repository needs package.json (node), ' +
      `or requirements.txt, pyproject.toml or a Procfile "web: python …" (python)${hint}`,
  );
}

/**
 * The runtime an app builds with, its contract checked. `declared` is the runtime a user
 * named (API deploys): it must match the files, rather than silently switching language.
 */
export async function resolveRuntime(files: SourceFiles, declared?: RuntimeName): Promise<Runtime> {
  const runtime = declared ? runtimeByName(declared) : await detectRuntime(files);
  if (!runtime) throw await nothingDetected(files);
  if (declared && !(await runtime.detect(files))) {
    const found = await detectRuntime(files);
    const looks = found ? `; its files look like a ${found.name} app` : '';
    const problems = await runtime.check(files).catch((err: Error) => [err.message]);
    const why = problems.length ? problems.join('; ') : `a ${declared} app needs ${declared === 'python' ? 'requirements.txt or pyproject.toml' : 'package.json'}`;
    throw new MinPaasError('CONTRACT_VIOLATED', `the app is declared as ${declared}${looks}: ${why}`);
  }
  const problems = await runtime.check(files);
  if (problems.length > 0) throw new MinPaasError('CONTRACT_VIOLATED', problems.join('; '));
  return runtime;
}
