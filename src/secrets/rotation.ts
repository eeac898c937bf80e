import { MinPaasError } from '../errors.js';
import type { Store } from '../store/store.js';
import { AesGcmCipher, type ValueCipher } from './cipher.js';
import { KeyFile } from './key-file.js';

/** The key file and the cipher the store seals with. */
export interface Secrets {
  keyFile: KeyFile;
  cipher: ValueCipher;
}

export function loadSecrets(keyFilePath: string): Secrets {
  const keyFile = KeyFile.loadOrCreate(keyFilePath);
  return { keyFile, cipher: new AesGcmCipher(keyFile) };
}

/**
 * After the store sealed everything with the current key at open: keys left over by a
 * rotation a crash interrupted can go.
 */
export function dropUnusedKeys(secrets: Secrets): void {
  if (secrets.keyFile.ids().length > 1) secrets.keyFile.dropOthers();
}

/**
 * Re-encrypts every secret under a new key without downtime: the new key is added first
 * (values under either key stay readable), values are re-sealed in short transactions, and
 * only then is the old key removed. Nothing is redeployed; apps keep serving.
 */
export class KeyRotation {
  private running = false;

  constructor(
    private readonly secrets: Secrets,
    private readonly store: Store,
  ) {}

  rotate(): { keyId: string; resealed: number } {
    if (this.running) throw new MinPaasError('CONFLICT', 'a key rotation is running already');
    this.running = true;
    try {
      const keyId = this.secrets.keyFile.addKey();
      const resealed = this.store.resealSecrets();
      this.store.checkpoint();
      this.secrets.keyFile.dropOthers();
      return { keyId, resealed };
    } finally {
      this.running = false;
    }
  }
}
