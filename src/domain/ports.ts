import net from 'node:net';

export const PORT_BASE = 10000;
export const PORT_RANGE = 50000;

/**
 * FNV-1a (32-bit) over the name's UTF-8 bytes: the same on every machine and every run,
 * unlike a salted hash, so an app keeps its port across reinstalls.
 */
export function stableHash(name: string): number {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(name, 'utf8')) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

export function preferredPort(name: string): number {
  return PORT_BASE + (stableHash(name) % PORT_RANGE);
}

/** The port after `port`, wrapping inside the app range. */
export function nextPort(port: number): number {
  return port + 1 >= PORT_BASE + PORT_RANGE ? PORT_BASE : port + 1;
}

/**
 * The app's preferred port, or the first free one probing upward: not taken by another
 * app (`taken`) and not in use on the host (`inUse`).
 */
export async function allocatePort(
  name: string,
  taken: ReadonlySet<number>,
  inUse: (port: number) => Promise<boolean>,
): Promise<number> {
  let port = preferredPort(name);
  for (let tries = 0; tries < PORT_RANGE; tries++, port = nextPort(port)) {
    if (taken.has(port)) continue;
    if (await inUse(port)) continue;
    return port;
  }
  throw new Error('no free app port left in 10000-59999');
}

/** True when something already listens on host:port (a bind attempt fails). */
export function portInUse(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(true));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(false)));
  });
}

/** A port nothing listens on right now, from the OS's ephemeral range on `host`. */
export function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen({ host, port: 0, exclusive: true }, () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
