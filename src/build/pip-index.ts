import { MinPaasError } from '../errors.js';

/**
 * MINPAAS_PIP_INDEX_URL: the package index python builds use (pip's PIP_INDEX_URL), for
 * hosts with a private or local index. A plain-http index is also marked trusted, which
 * pip otherwise ignores with only a warning: the operator chose it explicitly.
 */
export function parsePipIndexUrl(raw: string | undefined): string | undefined {
  if (raw === undefined || raw.trim() === '') return undefined;
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw new MinPaasError('INVALID_INPUT', 'MINPAAS_PIP_INDEX_URL must be an http(s) URL of a PEP 503 "simple" index');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new MinPaasError('INVALID_INPUT', 'MINPAAS_PIP_INDEX_URL must be an http(s) URL of a PEP 503 "simple" index');
  }
  return url.href;
}

/** The python Dockerfile's build args for an index URL. */
export function pipBuildArgs(indexUrl: string | undefined): Record<string, string> | undefined {
  if (!indexUrl) return undefined;
  const url = new URL(indexUrl);
  return url.protocol === 'http:' ? { PIP_INDEX_URL: indexUrl, PIP_TRUSTED_HOST: url.hostname } : { PIP_INDEX_URL: indexUrl };
}
