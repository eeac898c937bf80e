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
    throw invalid(`repo ${JSON.stringify(redactUrlsIn(value.length > 100 ? `${value.slice(0, 100)}…` : value))} is not a URL: use http:// or https://`);
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

/** User name and password given in a repo URL (`https://user:secret@host/...`). */
export interface RepoCredentials {
  username: string;
  password: string;
}

/** A repo URL split into what git is given, what people see, and the credentials. */
export interface RepoSource {
  /** The URL without user-info: what git gets on its command line and in .git/config. */
  url: string;
  /** What the API, logs and the store show: user-info replaced by `***`. */
  shown: string;
  credentials: RepoCredentials | null;
}

/** Validates like assertRepoUrl, then takes the credentials out of the URL. */
export function parseRepoSource(value: unknown): RepoSource {
  const raw = assertRepoUrl(value);
  const url = new URL(raw);
  if (url.username === '' && url.password === '') return { url: raw, shown: raw, credentials: null };
  const credentials = { username: safeDecode(url.username), password: safeDecode(url.password) };
  url.username = '';
  url.password = '';
  return { url: url.href, shown: redactUrl(raw), credentials };
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** `https://user:secret@host/x` → `https://***@host/x`; other text is returned as is. */
export function redactUrl(url: string): string {
  return redactUrlsIn(url);
}

/** Every URL's user-info in `text` replaced by `***` (error messages, logs, stored rows). */
export function redactUrlsIn(text: string): string {
  // The authority ends at the first / ? # or whitespace; user-info is what precedes its last @.
  return text.replace(/\b([a-z][a-z0-9+.-]*:\/\/)([^/?#\s]*)@/gi, (whole, scheme: string, userinfo: string) =>
    userinfo === '***' ? whole : `${scheme}***@`,
  );
}
