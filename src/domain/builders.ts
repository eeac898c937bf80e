import { invalid } from '../errors.js';
import type { BuilderName } from './types.js';

export const BUILDERS: readonly BuilderName[] = ['platform', 'dockerfile'];

/** `platform` (the default: MinPaas's runtime Dockerfiles) or `dockerfile` (the app's own); `buildpack` is accepted for `platform`. */
export function parseBuilder(raw: unknown): BuilderName {
  if (raw === 'buildpack') return 'platform';
  if (typeof raw === 'string' && (BUILDERS as readonly string[]).includes(raw)) return raw as BuilderName;
  throw invalid('builder must be "platform" (the default: MinPaas builds the app) or "dockerfile" (the app\'s own Dockerfile)');
}

/** An optional `builder` field of a request body. */
export function optionalBuilder(raw: unknown): BuilderName | undefined {
  return raw === undefined || raw === null ? undefined : parseBuilder(raw);
}
