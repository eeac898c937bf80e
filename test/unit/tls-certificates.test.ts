import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkCertificate, combinedPem, coveredHosts } from '../../src/tls/certificates.js';

const execFileAsync = promisify(execFile);
let dir: string;
const pem: Record<string, string> = {};

async function openssl(args: string[]): Promise<void> {
  await execFileAsync('openssl', args, { cwd: dir });
}

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'minpaas-certs-'));
  await openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '5', '-subj', '/CN=Root']);
  await fs.writeFile(path.join(dir, 'int.ext'), 'basicConstraints=critical,CA:true\nkeyUsage=critical,keyCertSign\n');
  await openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'int.key', '-out', 'int.csr', '-subj', '/CN=Intermediate']);
  await openssl(['x509', '-req', '-in', 'int.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'int.pem', '-days', '5', '-extfile', 'int.ext']);
  await fs.writeFile(path.join(dir, 'leaf.ext'), 'subjectAltName=DNS:*.example.com,DNS:example.com\n');
  await openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'leaf.key', '-out', 'leaf.csr', '-subj', '/CN=example.com']);
  await openssl(['x509', '-req', '-in', 'leaf.csr', '-CA', 'int.pem', '-CAkey', 'int.key', '-CAcreateserial', '-out', 'leaf.pem', '-days', '5', '-extfile', 'leaf.ext']);
  for (const name of ['ca.pem', 'int.pem', 'int.key', 'leaf.pem', 'leaf.key']) pem[name] = await fs.readFile(path.join(dir, name), 'utf8');
}, 30_000);

afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

describe('checkCertificate', () => {
  it('accepts a chain in order with its key, and says which hosts it covers', () => {
    const cert = checkCertificate(pem['leaf.pem']! + pem['int.pem']!, pem['leaf.key']!);
    expect(cert.expiresAt.getTime()).toBeGreaterThan(Date.now());
    expect(coveredHosts(cert.leaf, ['www.example.com', 'example.com', 'a.b.example.com', 'example.org'])).toEqual(['www.example.com', 'example.com']);
    expect(combinedPem(cert)).toMatch(/^-----BEGIN CERTIFICATE-----[\s\S]+-----END CERTIFICATE-----\n-----BEGIN CERTIFICATE-----[\s\S]+-----BEGIN PRIVATE KEY-----/);
  });

  it('refuses a key of another certificate', () => {
    expect(() => checkCertificate(pem['leaf.pem']! + pem['int.pem']!, pem['int.key']!)).toThrow(/does not match/);
  });

  it('refuses a chain out of order (an issuer that did not issue the one before it)', () => {
    expect(() => checkCertificate(pem['leaf.pem']! + pem['ca.pem']! + pem['int.pem']!, pem['leaf.key']!)).toThrow(/out of order/);
  });

  it('refuses garbage and an expired certificate', () => {
    expect(() => checkCertificate('not a pem', pem['leaf.key']!)).toThrow(/no PEM certificate/);
    expect(() => checkCertificate(pem['leaf.pem']!, 'nope')).toThrow(/private key/);
    expect(() => checkCertificate(pem['leaf.pem']!, pem['leaf.key']!, new Date(Date.now() + 30 * 24 * 3600 * 1000))).toThrow(/expired/);
  });
});
