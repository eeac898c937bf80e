import { invalid } from '../errors.js';

/** Container limits of an app; null means "no limit". */
export interface Resources {
  memoryBytes: number | null;
  cpus: number | null;
}

const UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };
/** Docker refuses less than 6 MiB; an app needs more anyway. */
const MIN_MEMORY = 6 * 1024 * 1024;

/** `512m`, `1g`, `1048576`, or `none`/`0` for no limit → bytes (null for no limit). */
export function parseSize(value: string, minBytes = 1): number | null {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([bkmg]?)(?:i?b)?\s*$/i.exec(value);
  if (/^\s*(none|unlimited)\s*$/i.test(value)) return null;
  if (!m) throw invalid(`size "${value}" is not a size: use e.g. 512m or 1g (or none)`);
  const bytes = Math.round(Number(m[1]) * UNITS[m[2]!.toLowerCase()]!);
  if (bytes === 0) return null;
  // Docker reads sizes as int64; a bigger number wraps and is refused with a confusing message.
  if (!Number.isSafeInteger(bytes)) throw invalid(`size "${value}" is too large`);
  if (bytes < minBytes) throw invalid(`size "${value}" is too small (${formatSize(minBytes)} at least)`);
  return bytes;
}

/** A container memory limit: Docker refuses less than 6 MiB. */
export function parseMemory(value: string): number | null {
  return parseSize(value, MIN_MEMORY);
}

/** `0.5`, `2`, or `none`/`0` for no limit → CPUs (null for no limit). */
export function parseCpus(value: string): number | null {
  if (/^\s*(none|unlimited)\s*$/i.test(value)) return null;
  if (!/^\s*\d+(\.\d+)?\s*$/.test(value)) throw invalid(`cpus "${value}" is not a number: use e.g. 0.5 or 2 (or none)`);
  const cpus = Number(value);
  if (cpus === 0) return null;
  if (cpus < 0.01 || cpus > 1024) throw invalid(`cpus "${value}" is out of range (0.01 to 1024)`);
  return cpus;
}

/** A size for people: 536870912 → "512m". */
export function formatSize(bytes: number | null): string {
  if (bytes === null) return 'none';
  for (const [unit, size] of [['g', 1024 ** 3], ['m', 1024 ** 2], ['k', 1024]] as const) {
    if (bytes % size === 0) return `${bytes / size}${unit}`;
  }
  return String(bytes);
}

/** An app's stored override (null = the default; 0 = no limit) over the default. */
export function effectiveResources(app: { memoryLimit: number | null; cpuLimit: number | null }, defaults: Resources): Resources {
  const pick = (override: number | null, fallback: number | null): number | null =>
    override === null ? fallback : override === 0 ? null : override;
  return { memoryBytes: pick(app.memoryLimit, defaults.memoryBytes), cpus: pick(app.cpuLimit, defaults.cpus) };
}

/** What this Docker host has; limits above it are refused before Docker is asked. */
export interface HostCapacity {
  memoryBytes: number;
  cpus: number;
}

/** Throws a 400 when a limit asks for more than the host has. */
export function assertWithinHost(r: Resources, host: HostCapacity): void {
  if (r.cpus !== null && r.cpus > host.cpus) {
    throw invalid(`cpus ${r.cpus} is more than this host has (${host.cpus} CPUs): use at most ${host.cpus}, or "none"`);
  }
  if (r.memoryBytes !== null && r.memoryBytes > host.memoryBytes) {
    throw invalid(`memory ${formatSize(r.memoryBytes)} is more than this host has (${formatSize(host.memoryBytes)}): use less, or "none"`);
  }
}

/** The platform's guards of every app container. */
export interface ContainerGuards {
  /** Most processes and threads in the container: a fork bomb stops there. */
  pidsLimit: number;
  /** Container logs rotate at this size, keeping this many files. */
  logMaxBytes: number;
  logMaxFiles: number;
}
