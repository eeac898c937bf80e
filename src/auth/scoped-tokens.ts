import crypto from 'node:crypto';
import { promisify } from 'node:util';

const scrypt = promisify(crypto.scrypt) as (password: crypto.BinaryLike, salt: crypto.BinaryLike, keylen: number, options: crypto.ScryptOptions) => Promise<Buffer>;

/** scrypt's interactive-login cost (N = 2^14, r = 8): tens of ms per check, off the event loop. */
const SCRYPT = { N: 16384, r: 8, p: 1, maxmem: 64 * 1024 * 1024 };
const HASH_BYTES = 32;

/**
 * `mp_<id>_<secret>`: the id finds the one stored hash to check (one KDF per check), the
 * secret (32 random bytes) is never stored.
 */
const TOKEN = /^mp_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;

export interface IssuedToken {
  id: string;
  /** Shown once, to whoever created it. */
  token: string;
  salt: Buffer;
  hash: Buffer;
}

export async function issueToken(): Promise<IssuedToken> {
  const id = crypto.randomBytes(8).toString('hex');
  const secret = crypto.randomBytes(32).toString('base64url');
  const salt = crypto.randomBytes(16);
  return { id, token: `mp_${id}_${secret}`, salt, hash: await hashSecret(secret, salt) };
}

export function parseToken(token: string): { id: string; secret: string } | undefined {
  const m = TOKEN.exec(token);
  return m ? { id: m[1]!, secret: m[2]! } : undefined;
}

export function hashSecret(secret: string, salt: Buffer): Promise<Buffer> {
  return scrypt(secret, salt, HASH_BYTES, SCRYPT);
}

/** One KDF, then a constant-time comparison. */
export async function secretMatches(secret: string, salt: Buffer, hash: Buffer): Promise<boolean> {
  const computed = await hashSecret(secret, salt);
  return computed.length === hash.length && crypto.timingSafeEqual(computed, hash);
}

/** `90d`, `12h`, `30m` → milliseconds. */
export function parseDuration(text: string): number | undefined {
  const m = /^(\d{1,5})([mhdw])$/.exec(text.trim());
  if (!m) return undefined;
  const unit = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 }[m[2] as 'm' | 'h' | 'd' | 'w'];
  const ms = Number(m[1]) * unit;
  return ms > 0 ? ms : undefined;
}
