import fs from 'node:fs/promises';

/**
 * Where the kernel keeps a container's memory use when Docker runs on this host: cgroup v1
 * (cgroupfs driver), cgroup v2 with the cgroupfs or the systemd driver. Reading a file is
 * microseconds; Docker's stats endpoint takes about a second per container here, even
 * one-shot, so a scrape of many apps reads these first.
 */
const candidates = (id: string): string[] => [
  `/sys/fs/cgroup/memory/docker/${id}/memory.usage_in_bytes`,
  `/sys/fs/cgroup/system.slice/docker-${id}.scope/memory.current`,
  `/sys/fs/cgroup/docker/${id}/memory.current`,
];

/** Bytes, or null when no cgroup file of the container is readable (another host, another layout). */
export async function cgroupMemoryUsage(id: string): Promise<number | null> {
  if (!/^[0-9a-f]{64}$/.test(id)) return null;
  for (const file of candidates(id)) {
    const text = await fs.readFile(file, 'utf8').catch(() => null);
    const bytes = text === null ? NaN : Number(text.trim());
    if (Number.isFinite(bytes)) return bytes;
  }
  return null;
}
