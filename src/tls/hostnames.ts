import { isIP } from 'node:net';
import { invalid } from '../errors.js';

/**
 * Host names as users type them, made canonical: lower-cased, no trailing dot, RFC 1123
 * labels (letters, digits, inner hyphens, 1-63 characters; 253 in all), at least two
 * labels, not an IP address. A leading `*.` only where the certificate source can cover
 * it (HTTP-01 cannot issue wildcards: only user-supplied certificates can).
 */
const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

export function normalizeHost(raw: string, allowWildcard: boolean): string {
  if (typeof raw !== 'string') throw invalid('a host name must be a string');
  const host = raw.trim().toLowerCase().replace(/\.$/, '');
  if (host === '') throw invalid('a host name cannot be empty');
  if (host.length > 253) throw invalid(`host name is longer than 253 characters: ${host.slice(0, 40)}…`);
  if (isIP(host) !== 0) throw invalid(`an IP address is not a host name: ${host}`);
  const labels = host.split('.');
  if (labels.length < 2) throw invalid(`host name needs at least two labels (like www.example.com): ${host}`);
  labels.forEach((label, i) => {
    if (label === '*' && i === 0) {
      if (!allowWildcard) throw invalid(`wildcard host names need a certificate that covers them (certs:add); automatic certificates (HTTP-01) cannot: ${host}`);
      return;
    }
    if (!LABEL.test(label)) throw invalid(`invalid host name ${JSON.stringify(host)}: each label is 1-63 letters, digits or inner hyphens (RFC 1123)`);
  });
  if (/^\d+$/.test(labels[labels.length - 1]!)) throw invalid(`the last label of a host name cannot be all digits: ${host}`);
  return host;
}

/** Whether certificate name `pattern` (maybe `*.x.y`) covers `host` (RFC 6125: one label). */
export function nameCovers(pattern: string, host: string): boolean {
  const p = pattern.toLowerCase();
  if (p === host) return true;
  if (!p.startsWith('*.')) return false;
  const dot = host.indexOf('.');
  return dot > 0 && host.slice(dot + 1) === p.slice(2);
}
