import type { ContainerGuards, Resources } from '../domain/resources.js';

/**
 * Docker's HostConfig fields for these limits. Creating a container, 0 means "no limit";
 * updating one, 0 means "unchanged", so a lifted limit is given as the host's whole
 * capacity (`capacity`), which is the same thing.
 */
export function hostConfigFor(r: Resources, capacity?: { memoryBytes: number; cpus: number }): { Memory: number; MemorySwap: number; NanoCpus: number } {
  const memory = r.memoryBytes ?? capacity?.memoryBytes ?? 0;
  const cpus = r.cpus ?? capacity?.cpus ?? 0;
  return {
    Memory: memory,
    // Swap equal to memory: the limit is a real limit, not a slow-down. A lifted limit in
    // place needs a finite swap limit above the memory one: cgroup v1 refuses to raise
    // memory over the old swap limit when swap is given as -1.
    MemorySwap: r.memoryBytes !== null ? memory : capacity ? 2 * memory : -1,
    NanoCpus: Math.round(cpus * 1e9),
  };
}

/** The platform's guards of every app container (PID limit, log rotation) as HostConfig fields. */
export function containerGuardsHostConfig(g: ContainerGuards): {
  PidsLimit: number;
  LogConfig: { Type: string; Config: Record<string, string> };
} {
  return {
    PidsLimit: g.pidsLimit,
    LogConfig: { Type: 'json-file', Config: { 'max-size': String(g.logMaxBytes), 'max-file': String(g.logMaxFiles) } },
  };
}

/** Docker build API options for a build's memory and CPU limit (classic builder). */
export function buildLimitOptions(memoryBytes: number | null, cpus: number | null): Record<string, number> {
  const options: Record<string, number> = {};
  if (memoryBytes !== null) {
    options.memory = memoryBytes;
    // Swap equal to memory: a build over its limit fails instead of swapping the host.
    options.memswap = memoryBytes;
  }
  if (cpus !== null) {
    options.cpuperiod = 100_000;
    options.cpuquota = Math.round(cpus * 100_000);
  }
  return options;
}
