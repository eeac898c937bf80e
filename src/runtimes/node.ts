import { parseProcfile } from './procfile.js';
import { jsonErrorSummary, type Runtime, type SourceFiles } from './runtime.js';

async function hasProcfileWeb(files: SourceFiles): Promise<boolean> {
  return (await files.has('Procfile')) && parseProcfile(await files.read('Procfile')).web !== undefined;
}

/**
 * What starts a Node app: a Procfile's `web:`, else `npm start`, which runs the "start"
 * script or, as npm itself does without one, `node server.js`.
 */
async function checkPackageJson(files: SourceFiles): Promise<string[]> {
  if (!(await files.has('package.json'))) return ['node runtime needs package.json'];
  let pkg: unknown;
  try {
    pkg = JSON.parse(await files.read('package.json'));
  } catch (err) {
    return [`node runtime could not parse package.json: ${jsonErrorSummary(err)}`];
  }
  const scripts = (pkg as { scripts?: unknown } | null)?.scripts;
  const start = typeof scripts === 'object' && scripts !== null ? (scripts as Record<string, unknown>).start : undefined;
  if (typeof start === 'string' && start.trim() !== '') return [];
  if ((await files.has('server.js')) || (await hasProcfileWeb(files))) return [];
  return [
    'node runtime does not know how to start the app: add a "start" script to package.json (e.g. "start": "node index.js"), a server.js, or a Procfile with a web: line; the app must listen on $PORT',
  ];
}

export const nodeRuntime: Runtime = {
  name: 'node',
  appPort: 3000,
  dockerfile: 'runtimes/node/Dockerfile',
  detect: (files) => files.has('package.json'),
  check: checkPackageJson,
};
