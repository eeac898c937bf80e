import { invalid } from '../errors.js';

/** App names: DNS-label-like, so they are safe in paths, image tags, container names and HAProxy config. */
export const APP_NAME_PATTERN = /^[a-z][a-z0-9-]{0,29}$/;
/** Env var names as POSIX shells accept them. */
export const ENV_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Set by the platform; a user value would break the router's health check. */
export const RESERVED_ENV_NAMES: ReadonlySet<string> = new Set(['PORT']);

export function isValidAppName(name: unknown): name is string {
  return typeof name === 'string' && APP_NAME_PATTERN.test(name) && !name.endsWith('-');
}

/** Throws a 400 naming the rule unless `name` is a valid app name. */
export function assertAppName(name: unknown): string {
  if (!isValidAppName(name)) {
    const shown = typeof name === 'string' ? JSON.stringify(name.length > 40 ? `${name.slice(0, 40)}…` : name) : String(name);
    throw invalid(
      `invalid app name ${shown}: use 1-30 lowercase letters, digits and dashes, starting with a letter and not ending with a dash`,
    );
  }
  return name;
}

export function assertEnvName(name: string): string {
  if (!ENV_NAME_PATTERN.test(name)) {
    throw invalid(`invalid config var name ${JSON.stringify(name)}: use letters, digits and underscores, not starting with a digit`);
  }
  if (RESERVED_ENV_NAMES.has(name)) {
    throw invalid(`${name} is set by MinPaas (the port your app must listen on) and cannot be changed`);
  }
  return name;
}
