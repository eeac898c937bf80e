import { MinPaasError } from '../errors.js';
import type { RuntimeName } from '../domain/types.js';
import { nodeRuntime } from './node.js';
import { pythonRuntime } from './python.js';
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

export async function detectRuntime(files: SourceFiles): Promise<Runtime | undefined> {
  for (const runtime of RUNTIMES) if (await runtime.detect(files)) return runtime;
  return undefined;
}

/**
 * The runtime an app builds with, its contract checked. `declared` is the runtime a user
 * named (API deploys): it must match the files, rather than silently switching language.
 */
export async function resolveRuntime(files: SourceFiles, declared?: RuntimeName): Promise<Runtime> {
  const runtime = declared ? runtimeByName(declared) : await detectRuntime(files);
  if (!runtime) {
    throw new MinPaasError(
      'CONTRACT_VIOLATED',
      'no supported app found: the top level of the repository needs package.json (node) or app.py and requirements.txt (python)',
    );
  }
  if (declared && !(await runtime.detect(files))) {
    const found = await detectRuntime(files);
    const looks = found ? `; its files look like a ${found.name} app` : '';
    throw new MinPaasError('CONTRACT_VIOLATED', `the app is declared as ${declared}${looks}: ${(await runtime.check(files)).join('; ')}`);
  }
  const problems = await runtime.check(files);
  if (problems.length > 0) throw new MinPaasError('CONTRACT_VIOLATED', problems.join('; '));
  return runtime;
}
