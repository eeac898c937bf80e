import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import { invalid } from '../errors.js';

/** Checks of certificates (user-supplied ones and what ACME returned) with node:crypto. */

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

export interface CheckedCertificate {
  /** PEM chain, leaf first, normalized. */
  chain: string;
  key: string;
  leaf: X509Certificate;
  expiresAt: Date;
}

export function parseChain(pem: string): X509Certificate[] {
  const blocks = pem.match(PEM_CERT) ?? [];
  if (blocks.length === 0) throw invalid('the certificate file holds no PEM certificate (-----BEGIN CERTIFICATE-----)');
  return blocks.map((block, i) => {
    try {
      return new X509Certificate(block);
    } catch {
      throw invalid(`certificate ${i + 1} of the chain cannot be read`);
    }
  });
}

function parseKey(pem: string): KeyObject {
  try {
    return createPrivateKey(pem);
  } catch {
    throw invalid('the key file holds no readable PEM private key (an encrypted key must be decrypted first)');
  }
}

/**
 * A certificate chain and its key, checked: the key matches the leaf, each certificate is
 * issued and signed by the next (leaf first, as HAProxy sends them), the leaf is valid
 * now. Names are the caller's business (coveredHosts).
 */
export function checkCertificate(chainPem: string, keyPem: string, now = new Date()): CheckedCertificate {
  const chain = parseChain(chainPem);
  const key = parseKey(keyPem);
  const leaf = chain[0]!;
  if (!leaf.checkPrivateKey(key)) throw invalid('the private key does not match the certificate (the first one in the file must be the server certificate)');
  for (let i = 0; i + 1 < chain.length; i++) {
    const cert = chain[i]!;
    const issuer = chain[i + 1]!;
    if (!cert.checkIssued(issuer) || !cert.verify(issuer.publicKey)) {
      throw invalid(`the chain is out of order: certificate ${i + 2} did not issue certificate ${i + 1} (put the server certificate first, then each issuer)`);
    }
  }
  const expiresAt = new Date(leaf.validTo);
  if (expiresAt.getTime() <= now.getTime()) throw invalid(`the certificate expired on ${expiresAt.toISOString()}`);
  if (new Date(leaf.validFrom).getTime() > now.getTime()) throw invalid(`the certificate is not valid before ${new Date(leaf.validFrom).toISOString()}`);
  return {
    chain: chain.map((c) => c.toString().trim()).join('\n') + '\n',
    key: key.export({ type: 'pkcs8', format: 'pem' }).toString(),
    leaf,
    expiresAt,
  };
}

/** The hosts among `hosts` that the leaf's names cover (subjectAltName, wildcards by RFC 6125). */
export function coveredHosts(leaf: X509Certificate, hosts: string[]): string[] {
  return hosts.filter((host) => leaf.checkHost(host, { subject: 'default', wildcards: true, partialWildcards: false }) !== undefined);
}

/** HAProxy's combined PEM: chain then key. */
export function combinedPem(cert: CheckedCertificate): string {
  return `${cert.chain.trim()}\n${cert.key.trim()}\n`;
}
