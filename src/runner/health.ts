import http from 'node:http';
import { sleep } from '../sleep.js';

/** One HTTP GET; resolves to the status code, or null on any failure or timeout. */
export function probeHttp(host: string, port: number, timeoutMs: number): Promise<number | null> {
  return new Promise((resolve) => {
    // node:http with its own timeout: fetch() can hang forever on a port
    // whose app is not listening yet.
    const req = http.get({ host, port, path: '/', timeout: timeoutMs, agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode ?? null);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve(null));
  });
}

export interface HealthOptions {
  host: string;
  port: number;
  timeoutMs: number;
  intervalMs?: number;
  /** Checked between probes: a reason to give up early (e.g. the container exited). */
  giveUp?: () => Promise<string | null>;
}

export type HealthResult = { ok: true; status: number; elapsedMs: number } | { ok: false; reason: string };

/** Waits until the app answers HTTP at all (any status counts: it is up and on its port). */
export async function waitForHttp(opts: HealthOptions): Promise<HealthResult> {
  const started = Date.now();
  const deadline = started + opts.timeoutMs;
  const interval = opts.intervalMs ?? 50;
  for (;;) {
    const left = deadline - Date.now();
    if (left <= 0) {
      return { ok: false, reason: `the app did not answer HTTP within ${Math.round(opts.timeoutMs / 1000)} s; does it listen on $PORT?` };
    }
    const status = await probeHttp(opts.host, opts.port, Math.min(2000, left));
    if (status !== null) return { ok: true, status, elapsedMs: Date.now() - started };
    const reason = await opts.giveUp?.();
    if (reason) return { ok: false, reason };
    await sleep(Math.min(interval, Math.max(0, deadline - Date.now())));
  }
}
