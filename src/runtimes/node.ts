import type { Runtime, SourceFiles } from './runtime.js';

async function checkPackageJson(files: SourceFiles): Promise<string[]> {
  if (!(await files.has('package.json'))) return ['node runtime needs package.json with a "start" script'];
  let pkg: unknown;
  try {
    pkg = JSON.parse(await files.read('package.json'));
  } catch (err) {
    return [`node runtime could not parse package.json: ${(err as Error).message}`];
  }
  const scripts = (pkg as { scripts?: unknown } | null)?.scripts;
  const start = typeof scripts === 'object' && scripts !== null ? (scripts as Record<string, unknown>).start : undefined;
  if (typeof start !== 'string' || start.trim() === '') {
    return ['node runtime needs a "start" script in package.json (e.g. "start": "node server.js"); the app must listen on $PORT'];
  }
  return [];
}

export const nodeRuntime: Runtime = {
  name: 'node',
  appPort: 3000,
  dockerfile: 'runtimes/node/Dockerfile',
  detect: (files) => files.has('package.json'),
  check: checkPackageJson,
};
