import fs from 'node:fs/promises';
import path from 'node:path';
import type acme from 'acme-client';
import type { Logger } from '../log.js';

/**
 * Certificates from an ACME directory by HTTP-01 (acme-client). The challenge answers are
 * kept here in memory; the control plane serves them at /.well-known/acme-challenge/ and
 * the router sends that path of every host to it. Extra CAs for the directory's own TLS
 * (a private test CA) come from Node's NODE_EXTRA_CA_CERTS.
 */

export interface IssuedCertificate {
  /** PEM chain, leaf first. */
  chain: string;
  /** PEM private key. */
  key: string;
}

export interface CertificateIssuer {
  issue(host: string): Promise<IssuedCertificate>;
}

export class ChallengeResponses {
  private readonly answers = new Map<string, string>();

  set(token: string, keyAuthorization: string): void {
    this.answers.set(token, keyAuthorization);
  }

  delete(token: string): void {
    this.answers.delete(token);
  }

  get(token: string): string | undefined {
    return this.answers.get(token);
  }
}

export interface AcmeIssuerOptions {
  directoryUrl: string;
  email: string | null;
  /** Where the account key is kept (owner-only). */
  dir: string;
  challenges: ChallengeResponses;
  log: Logger;
}

/**
 * acme-client (with node-forge, axios, @peculiar/*) costs ~17 MB of RSS: loaded at the
 * first certificate, not at start-up (most servers run without a domain, or have every
 * certificate already).
 */
const acmeLib = async (): Promise<typeof acme> => (await import('acme-client')).default;

export class AcmeIssuer implements CertificateIssuer {
  private client: acme.Client | undefined;

  constructor(private readonly opts: AcmeIssuerOptions) {}

  /** One account per data dir: its key is made once and reused (ACME rate limits count accounts). */
  private async account(): Promise<acme.Client> {
    if (this.client) return this.client;
    const lib = await acmeLib();
    await fs.mkdir(this.opts.dir, { recursive: true, mode: 0o700 });
    const file = path.join(this.opts.dir, 'account.key');
    let key: Buffer;
    try {
      key = await fs.readFile(file);
    } catch {
      key = await lib.crypto.createPrivateKey();
      await fs.writeFile(file, key, { mode: 0o600 });
    }
    this.client = new lib.Client({ directoryUrl: this.opts.directoryUrl, accountKey: key });
    return this.client;
  }

  async issue(host: string): Promise<IssuedCertificate> {
    const client = await this.account();
    const [key, csr] = await (await acmeLib()).crypto.createCsr({ commonName: host, altNames: [host] });
    const tokens: string[] = [];
    const chain = await client.auto({
      csr,
      ...(this.opts.email ? { email: this.opts.email } : {}),
      termsOfServiceAgreed: true,
      challengePriority: ['http-01'],
      // The client's own pre-check fetches the token through the system resolver on port
      // 80 (hangs behind NAT, wrong in tests): the ACME server's validation is the check.
      skipChallengeVerification: true,
      challengeCreateFn: async (_authz, challenge, keyAuthorization) => {
        if (challenge.type !== 'http-01') throw new Error(`only http-01 challenges are supported, got ${challenge.type}`);
        this.opts.challenges.set(challenge.token, keyAuthorization);
        tokens.push(challenge.token);
      },
      challengeRemoveFn: async (_authz, challenge) => {
        this.opts.challenges.delete(challenge.token);
      },
    });
    for (const token of tokens) this.opts.challenges.delete(token);
    return { chain, key: key.toString('utf8') };
  }
}
