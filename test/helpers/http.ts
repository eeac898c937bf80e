import http from 'node:http';
import { freePort } from '../../src/domain/ports.js';

/** GET http://127.0.0.1:port/path → {status, body}; null when nothing answers. */
export function httpGet(port: number, pathname = '/', timeoutMs = 5000): Promise<{ status: number; body: string } | null> {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: pathname, timeout: timeoutMs, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', () => resolve(null));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(null));
  });
}

/** Retries `check` until it stops throwing, for state that settles in the background. */
export async function eventually<T>(check: () => Promise<T>, timeoutMs = 20_000, intervalMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  }
}

/** A loopback port nobody listens on right now. */
export function freeLoopbackPort(): Promise<number> {
  return freePort('127.0.0.1');
}

export interface ApiResult {
  status: number;
  json: any;
  text: string;
}

/** One admin API call with a Bearer token; a string body is sent as is (for malformed-JSON tests). */
export async function apiRequest(baseUrl: string, token: string, method: string, pathname: string, body?: unknown): Promise<ApiResult> {
  const res = await fetch(`${baseUrl}${pathname}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
    signal: AbortSignal.timeout(120_000),
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, json, text };
}
