import { routerPaths } from '../../src/router/haproxy-config.js';
import { adminCommand } from '../../src/router/sockets.js';

/** Counters of an app's HAProxy backend that would show a dropped or failed request. */
export const TROUBLE_COUNTERS = ['econ', 'eresp', 'wretr', 'wredis', 'hrsp_5xx', 'cli_abrt', 'srv_abrt'] as const;

/** The app's BACKEND row of `show stat` (read from the router's admin socket), by field name. */
export async function backendCounters(dataDir: string, app: string): Promise<Record<string, number>> {
  const text = await adminCommand(routerPaths(dataDir).adminSocket, 'show stat');
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  const header = lines[0]!.replace(/^# /, '').split(',');
  const out: Record<string, number> = {};
  for (const line of lines.slice(1)) {
    const cols = line.split(',');
    if (cols[0] !== `be_${app}` || cols[1] !== 'BACKEND') continue;
    for (const [i, field] of header.entries()) out[field] = Number(cols[i] || 0);
  }
  return out;
}

/** How much each trouble counter grew between two readings. */
export function troubleDeltas(before: Record<string, number>, after: Record<string, number>): Record<string, number> {
  return Object.fromEntries(TROUBLE_COUNTERS.map((f) => [f, (after[f] ?? 0) - (before[f] ?? 0)]));
}
