import crypto from 'node:crypto';

/**
 * How the store seals secret values (config values, release config snapshots, webhook
 * secrets, deploy tokens). Only the store calls it; the key never reaches SQLite.
 */
export interface ValueCipher {
  seal(plain: string): string;
  /** Plaintext rows from before encryption are returned as they are (and sealed at start-up). */
  open(stored: string): string;
  /** The key id a stored value was sealed with, or null for plaintext. */
  keyOf(stored: string): string | null;
  /** The key new values are sealed with (null = no encryption: tests of other modules). */
  currentKeyId(): string | null;
}

/** `enc1:<key id>:<base64 of nonce | ciphertext | tag>` */
const SEALED = /^enc1:([A-Za-z0-9]{1,32}):([A-Za-z0-9+/=]+)$/;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;

export interface KeySource {
  current(): { id: string; key: Buffer };
  get(id: string): Buffer | undefined;
}

/** AES-256-GCM with a fresh 12-byte nonce per value; the key id is stored with each value (and authenticated). */
export class AesGcmCipher implements ValueCipher {
  constructor(private readonly keys: KeySource) {}

  seal(plain: string): string {
    const { id, key } = this.keys.current();
    const nonce = crypto.randomBytes(NONCE_BYTES);
    const c = crypto.createCipheriv('aes-256-gcm', key, nonce);
    c.setAAD(Buffer.from(id));
    const body = Buffer.concat([c.update(plain, 'utf8'), c.final()]);
    return `enc1:${id}:${Buffer.concat([nonce, body, c.getAuthTag()]).toString('base64')}`;
  }

  open(stored: string): string {
    const m = SEALED.exec(stored);
    if (!m) return stored;
    const key = this.keys.get(m[1]!);
    if (!key) throw new Error(`a stored secret was sealed with key ${m[1]}, which the key file does not hold; restore that key file`);
    const raw = Buffer.from(m[2]!, 'base64');
    const d = crypto.createDecipheriv('aes-256-gcm', key, raw.subarray(0, NONCE_BYTES));
    d.setAAD(Buffer.from(m[1]!));
    d.setAuthTag(raw.subarray(raw.length - TAG_BYTES));
    return Buffer.concat([d.update(raw.subarray(NONCE_BYTES, raw.length - TAG_BYTES)), d.final()]).toString('utf8');
  }

  keyOf(stored: string): string | null {
    return SEALED.exec(stored)?.[1] ?? null;
  }

  currentKeyId(): string {
    return this.keys.current().id;
  }
}

/** No encryption: for stores opened by tests of unrelated modules. The server always injects AesGcmCipher. */
export const PLAINTEXT: ValueCipher = {
  seal: (plain) => plain,
  open: (stored) => stored,
  keyOf: () => null,
  currentKeyId: () => null,
};
