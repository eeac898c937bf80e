import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/** Constant-time comparison: hashing first makes lengths equal, so nothing leaks through timing. */
export function tokenMatches(given: string | undefined, expected: string): boolean {
  if (given === undefined) return false;
  const a = crypto.createHash('sha256').update(given).digest();
  const b = crypto.createHash('sha256').update(expected).digest();
  return crypto.timingSafeEqual(a, b);
}

/** The password of an HTTP Basic header (any user name), or undefined. */
export function basicPassword(header: string | undefined): string | undefined {
  const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? '');
  if (!m) return undefined;
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? undefined : decoded.slice(colon + 1);
}

/** The token of a `Bearer` header, or undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return m ? m[1] : undefined;
}

export interface TokenSource {
  token: string;
  /** True when this start generated it (it is printed once). */
  generated: boolean;
  file: string;
}

/**
 * MINPAAS_TOKEN when set; otherwise the token saved in <data>/token, generated (and saved
 * with mode 0600) on first start.
 */
export function loadOrCreateToken(dataDir: string, configured: string | undefined): TokenSource {
  const file = path.join(dataDir, 'token');
  if (configured) return { token: configured, generated: false, file };
  try {
    const saved = fs.readFileSync(file, 'utf8').trim();
    if (saved) return { token: saved, generated: false, file };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const token = crypto.randomBytes(24).toString('base64url');
  fs.mkdirSync(dataDir, { recursive: true });
  fs.writeFileSync(file, `${token}\n`, { mode: 0o600, flag: 'wx' });
  return { token, generated: true, file };
}

/** This installation's id (labels its containers and images), created on first start. */
export function loadOrCreateInstanceId(dataDir: string): string {
  const file = path.join(dataDir, 'instance-id');
  try {
    const saved = fs.readFileSync(file, 'utf8').trim();
    if (/^[a-z0-9]{8,64}$/.test(saved)) return saved;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const id = crypto.randomBytes(6).toString('hex');
  fs.mkdirSync(dataDir, { recursive: true });
  fs.writeFileSync(file, `${id}\n`);
  return id;
}
