import { isIP } from 'node:net';
import { MinPaasError } from '../errors.js';
import { normalizeHost } from './hostnames.js';

/** Host routing and TLS settings of `minpaas server` (issue 11). */
export interface TlsSettings {
  /** MINPAAS_DOMAIN: apps answer at APP.DOMAIN; null = host routing off (per-app ports only). */
  domain: string | null;
  httpPort: number;
  httpsPort: number;
  /** The ACME directory URL (default Let's Encrypt production). */
  acmeDirectory: string;
  acmeEmail: string | null;
  /** MINPAAS_CONTROL_HOST: the control plane's own host name (default minpaas.DOMAIN). */
  controlHost: string | null;
  /** MINPAAS_RENEW_BEFORE_DAYS: renew this long before expiry (default 30). */
  renewBeforeMs: number;
  /** MINPAAS_ACME_RETRY_SECONDS: first retry after a failure, doubled per failure (default 300). */
  retryBaseMs: number;
}

export const LETS_ENCRYPT_DIRECTORY = 'https://acme-v02.api.letsencrypt.org/directory';

type Env = Record<string, string | undefined>;

function port(env: Env, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1 || value > 65535) throw new MinPaasError('INVALID_INPUT', `${name} must be a port from 1 to 65535, got "${raw}"`);
  return value;
}

function hostSetting(env: Env, name: string): string | null {
  const raw = env[name];
  if (raw === undefined || raw === '') return null;
  try {
    return normalizeHost(raw, false);
  } catch (err) {
    throw new MinPaasError('INVALID_INPUT', `${name}: ${(err as Error).message}`);
  }
}

export function loadTlsSettings(env: Env): TlsSettings {
  const domain = hostSetting(env, 'MINPAAS_DOMAIN');
  const httpPort = port(env, 'MINPAAS_HTTP_PORT', 80);
  const httpsPort = port(env, 'MINPAAS_HTTPS_PORT', 443);
  if (httpPort === httpsPort) throw new MinPaasError('INVALID_INPUT', 'MINPAAS_HTTP_PORT and MINPAAS_HTTPS_PORT must differ');
  const directory = env.MINPAAS_ACME_DIRECTORY || LETS_ENCRYPT_DIRECTORY;
  if (!/^https:\/\//.test(directory)) throw new MinPaasError('INVALID_INPUT', `MINPAAS_ACME_DIRECTORY must be an https URL, got "${directory}"`);
  const days = env.MINPAAS_RENEW_BEFORE_DAYS || '30';
  // Fractions are allowed for short-lived certificates (and tests against Pebble).
  if (!/^\d+(\.\d+)?$/.test(days) || Number(days) <= 0 || Number(days) > 80) throw new MinPaasError('INVALID_INPUT', `MINPAAS_RENEW_BEFORE_DAYS must be a number of days above 0 and up to 80, got "${days}"`);
  const retry = env.MINPAAS_ACME_RETRY_SECONDS || '300';
  if (!/^\d+$/.test(retry) || Number(retry) < 1 || Number(retry) > 86400) throw new MinPaasError('INVALID_INPUT', `MINPAAS_ACME_RETRY_SECONDS must be a whole number from 1 to 86400, got "${retry}"`);
  const email = env.MINPAAS_ACME_EMAIL || null;
  if (email !== null && !/^[^\s@]+@[^\s@]+$/.test(email)) throw new MinPaasError('INVALID_INPUT', `MINPAAS_ACME_EMAIL must be an e-mail address, got "${email}"`);
  return {
    domain,
    httpPort,
    httpsPort,
    acmeDirectory: directory,
    acmeEmail: email,
    controlHost: domain === null ? null : (hostSetting(env, 'MINPAAS_CONTROL_HOST') ?? `minpaas.${domain}`),
    renewBeforeMs: Number(days) * 24 * 3600 * 1000,
    retryBaseMs: Number(retry) * 1000,
  };
}

/** With a domain the control plane is reached through the router: its own port stays on loopback unless MINPAAS_HOST says otherwise. */
export function defaultControlBind(env: Env): string {
  if (env.MINPAAS_HOST) return env.MINPAAS_HOST;
  return env.MINPAAS_DOMAIN ? '127.0.0.1' : '0.0.0.0';
}

export const isIpLiteral = (host: string): boolean => isIP(host) !== 0;
