import type { EnvVars } from '../domain/types.js';

/**
 * The app's config for its build: a file at the root of the build context that the
 * runtime Dockerfiles source in a build stage only. The final image is made by a later
 * stage that copies the built app without it, so config never lands in the image's
 * filesystem or history. Agreed with the Python and Dockerfile builders: always present
 * (maybe empty), one `export NAME='value'` line per var.
 */
export const BUILD_ENV_FILE = '.minpaas-build-env';

/** POSIX single quotes: nothing inside is special; a quote is closed, escaped and reopened. */
function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** Sorted, so the same config gives the same file and the install layer stays cached. */
export function renderBuildEnv(env: EnvVars): string {
  return Object.keys(env)
    .sort()
    .map((name) => `export ${name}=${shellQuote(env[name]!)}\n`)
    .join('');
}
