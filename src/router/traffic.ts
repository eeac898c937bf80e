import { backendName } from './haproxy-config.js';

/** What HAProxy counted for one app since its worker started (a reload starts from zero). */
export interface AppTraffic {
  app: string;
  /** HTTP requests the app's backend handled. */
  requests: number;
  /** Of those, answered 5xx (by the app, or by HAProxy for it). */
  responses5xx: number;
  /** HAProxy's average response time over the last 1,024 requests, ms. */
  avgResponseMs: number;
  /** Average total time (request to end of response) over the last 1,024 requests, ms. */
  avgTotalMs: number;
}

const PREFIX = backendName('');

/** The BACKEND rows of `show stat` as per-app traffic. */
export function parseTraffic(showStat: string): AppTraffic[] {
  const lines = showStat.split('\n').filter((l) => l.trim() !== '');
  const header = lines.find((l) => l.startsWith('# '));
  if (!header) throw new Error(`unexpected "show stat" answer: ${showStat.slice(0, 200)}`);
  const columns = header.slice(2).split(',');
  const at = (name: string): number => columns.indexOf(name);
  const [px, sv, req, h5, rt, tt] = ['pxname', 'svname', 'req_tot', 'hrsp_5xx', 'rtime', 'ttime'].map(at) as [number, number, number, number, number, number];
  const num = (cols: string[], i: number): number => (i >= 0 ? Number(cols[i] || 0) : 0);
  return lines
    .filter((l) => !l.startsWith('#'))
    .map((l) => l.split(','))
    .filter((cols) => cols[sv] === 'BACKEND' && cols[px]!.startsWith(PREFIX))
    .map((cols) => ({ app: cols[px]!.slice(PREFIX.length), requests: num(cols, req), responses5xx: num(cols, h5), avgResponseMs: num(cols, rt), avgTotalMs: num(cols, tt) }));
}
