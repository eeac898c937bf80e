import { parseCpus, parseMemory } from '../domain/resources.js';
import { invalid } from '../errors.js';

export interface Limits {
  /** null = the default, 0 = no limit. */
  memoryLimit: number | null;
  cpuLimit: number | null;
}

/**
 * A PATCH /resources body: `memory` ("512m", "1g", "none") and `cpus` (0.5, "2", "none");
 * null puts a limit back to the installation's default; absent keeps it.
 */
export function parseResourceChanges(body: Record<string, unknown>): Partial<Limits> {
  const unknown = Object.keys(body).filter((k) => k !== 'memory' && k !== 'cpus');
  if (unknown.length) throw invalid(`unknown resource ${unknown.map((k) => JSON.stringify(k)).join(', ')}: use "memory" and "cpus"`);
  if (!('memory' in body) && !('cpus' in body)) throw invalid('give "memory" (e.g. "512m") and/or "cpus" (e.g. 0.5); null means the default');
  const limits: Partial<Limits> = {};
  if ('memory' in body) {
    const m = body.memory;
    if (m !== null && typeof m !== 'string' && typeof m !== 'number') throw invalid('memory must be a size like "512m", "none", or null');
    limits.memoryLimit = m === null ? null : (parseMemory(String(m)) ?? 0);
  }
  if ('cpus' in body) {
    const c = body.cpus;
    if (c !== null && typeof c !== 'string' && typeof c !== 'number') throw invalid('cpus must be a number like 0.5, "none", or null');
    limits.cpuLimit = c === null ? null : (parseCpus(String(c)) ?? 0);
  }
  return limits;
}
