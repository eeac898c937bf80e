import { invalid } from '../errors.js';

/**
 * Only plain http(s) URLs may be cloned. Git understands many more transports (`ext::`
 * runs a command, `file://` reads the host, `ssh://` and `git@host:x` shell out), and an
 * argument starting with `-` would be read as an option.
 */
export function assertRepoUrl(value: unknown): string {
  if (typeof value !== 'string' || value === '') throw invalid('repo must be an http:// or https:// URL of a git repository');
  if (value.length > 2048) throw invalid('repo URL is too long (2048 characters at most)');
  if (/[\s\u0000-\u001f\u007f]/.test(value)) throw invalid('repo URL must not contain spaces, newlines or control characters');
  if (value.startsWith('-')) throw invalid('repo URL must not start with "-"');
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw invalid(`repo ${JSON.stringify(value)} is not a URL: use http:// or https://`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw invalid(`repo URL scheme ${url.protocol} is not allowed: use http:// or https://`);
  }
  if (!/^https?:\/\//i.test(value) || url.hostname === '') throw invalid('repo URL needs a host, e.g. https://github.com/owner/name');
  return value;
}

/** Branch names git accepts, minus anything that could read as an option. */
export function assertBranch(value: unknown): string {
  if (
    typeof value !== 'string' ||
    !/^[A-Za-z0-9._/-]{1,200}$/.test(value) ||
    value.startsWith('-') ||
    value.includes('..') ||
    value.endsWith('/') ||
    value.endsWith('.lock')
  ) {
    throw invalid('branch must be a git branch name (letters, digits, ".", "_", "-", "/")');
  }
  return value;
}
