import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { KeySource } from './cipher.js';

interface KeyFileContent {
  current: string;
  keys: Record<string, string>;
}

/**
 * The secret key file (`<data>/secret.key` or MINPAAS_SECRET_KEY_FILE), mode 0600, outside
 * the database: a copy of the database alone reveals no secret. During a rotation it holds
 * the old key and the new one; the old one goes once nothing is sealed with it.
 */
export class KeyFile implements KeySource {
  private content: KeyFileContent;

  private constructor(
    readonly file: string,
    content: KeyFileContent,
  ) {
    this.content = content;
  }

  /** Loads the key file, creating it with a new key on first start. */
  static loadOrCreate(file: string): KeyFile {
    try {
      return new KeyFile(file, parse(fs.readFileSync(file, 'utf8'), file));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    const keyFile = new KeyFile(file, { current: '', keys: {} });
    keyFile.addKey();
    return keyFile;
  }

  current(): { id: string; key: Buffer } {
    return { id: this.content.current, key: Buffer.from(this.content.keys[this.content.current]!, 'base64') };
  }

  get(id: string): Buffer | undefined {
    const key = this.content.keys[id];
    return key === undefined ? undefined : Buffer.from(key, 'base64');
  }

  ids(): string[] {
    return Object.keys(this.content.keys);
  }

  /** A new current key; the others stay until dropOthers (values sealed with them stay readable). */
  addKey(): string {
    let id: string;
    do id = crypto.randomBytes(4).toString('hex');
    while (this.content.keys[id]);
    this.save({ current: id, keys: { ...this.content.keys, [id]: crypto.randomBytes(32).toString('base64') } });
    return id;
  }

  /** Keeps only the current key (call once no value is sealed with another). */
  dropOthers(): void {
    const { current } = this.content;
    this.save({ current, keys: { [current]: this.content.keys[current]! } });
  }

  /** Written to a temp file (0600) and renamed: a crash leaves the old file or the new one. */
  private save(content: KeyFileContent): void {
    fs.mkdirSync(path.dirname(this.file), { recursive: true });
    const tmp = `${this.file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, `${JSON.stringify(content)}\n`, { mode: 0o600 });
    fs.renameSync(tmp, this.file);
    this.content = content;
  }
}

function parse(text: string, file: string): KeyFileContent {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new Error(`the secret key file ${file} is not valid JSON; restore it from your backup`);
  }
  const c = value as Partial<KeyFileContent>;
  const keys = c?.keys;
  if (typeof c?.current !== 'string' || typeof keys !== 'object' || keys === null || typeof keys[c.current] !== 'string') {
    throw new Error(`the secret key file ${file} has no current key; restore it from your backup`);
  }
  for (const [id, key] of Object.entries(keys)) {
    if (!/^[A-Za-z0-9]{1,32}$/.test(id) || Buffer.from(String(key), 'base64').length !== 32) {
      throw new Error(`the secret key file ${file} holds a malformed key ${JSON.stringify(id)}; restore it from your backup`);
    }
  }
  return { current: c.current, keys: keys as Record<string, string> };
}
