import type { Resources } from '../domain/resources.js';

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
    // Swap equal to memory: the limit is a real limit, not a slow-down.
    MemorySwap: r.memoryBytes === null ? -1 : memory,
    NanoCpus: Math.round(cpus * 1e9),
  };
}
