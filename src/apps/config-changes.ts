import { assertEnvName } from '../domain/names.js';
import type { EnvVars } from '../domain/types.js';
import { invalid } from '../errors.js';

/** A PATCH body: a string sets a var, null unsets it. */
export type ConfigChanges = Record<string, string | null>;

const MAX_VALUE_BYTES = 32 * 1024;

/** Validates a PATCH /config body (names, types) before anything is touched. */
export function parseConfigChanges(body: unknown): ConfigChanges {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw invalid('config changes must be a JSON object: {"KEY": "value", "OLD": null}');
  }
  const entries = Object.entries(body as Record<string, unknown>);
  if (entries.length === 0) throw invalid('no config changes given');
  const changes: ConfigChanges = {};
  for (const [key, value] of entries) {
    assertEnvName(key);
    if (value !== null && typeof value !== 'string') {
      throw invalid(`config var ${key} must be a string (or null to unset it), got ${Array.isArray(value) ? 'array' : typeof value}`);
    }
    if (typeof value === 'string' && value.includes('\u0000')) {
      // A process environment is NUL-terminated: Docker cannot pass such a value.
      throw invalid(`config var ${key} must not contain a NUL byte (\\u0000)`);
    }
    if (typeof value === 'string' && Buffer.byteLength(value) > MAX_VALUE_BYTES) {
      throw invalid(`config var ${key} is too long (32 KiB at most)`);
    }
    changes[key] = value;
  }
  return changes;
}

/** A full env (POST /deploy's `env`): names checked, values strings. */
export function parseEnv(body: unknown): EnvVars {
  if (body === undefined) return {};
  if (typeof body === 'object' && body !== null && !Array.isArray(body) && Object.keys(body).length === 0) return {};
  const changes = parseConfigChanges(body);
  const env: EnvVars = {};
  for (const [key, value] of Object.entries(changes)) {
    if (value === null) throw invalid(`env var ${key} must be a string`);
    env[key] = value;
  }
  return env;
}

/** The config after applying changes; `changed` is false when nothing differs. */
export function applyConfigChanges(current: EnvVars, changes: ConfigChanges): { env: EnvVars; changed: boolean } {
  const env: EnvVars = { ...current };
  let changed = false;
  for (const [key, value] of Object.entries(changes)) {
    if (value === null) {
      if (key in env) {
        delete env[key];
        changed = true;
      }
    } else if (env[key] !== value) {
      env[key] = value;
      changed = true;
    }
  }
  return { env, changed };
}
