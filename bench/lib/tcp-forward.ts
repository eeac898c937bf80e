/**
 * A plain TCP forwarder. The bench runs one inside each node's network namespace
 * (127.0.0.1:PORT there → the registry on the host bridge), so every engine pulls the same
 * image name `127.0.0.1:PORT/...`, which Docker trusts without TLS or daemon settings, and
 * one on the host (bridge address → the registry on the host's loopback).
 *
 *   node --import tsx bench/lib/tcp-forward.ts LISTEN_HOST LISTEN_PORT TARGET_HOST TARGET_PORT
 *
 * Run that way it prints "listening" once bound and exits on SIGTERM.
 */
import net from 'node:net';
import { fileURLToPath } from 'node:url';

export interface Forwarder {
  /** Stops listening and cuts the open connections. */
  close(): void;
}

export function forwardTcp(listenHost: string, listenPort: number, targetHost: string, targetPort: number): Promise<Forwarder> {
  const open = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect({ host: targetHost, port: targetPort });
    open.add(client).add(upstream);
    // One side failing ends both: a pull sees a closed connection and retries.
    const end = (): void => {
      client.destroy();
      upstream.destroy();
      open.delete(client);
      open.delete(upstream);
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(listenPort, listenHost, () => {
      server.off('error', reject);
      resolve({
        close: () => {
          server.close();
          for (const s of open) s.destroy();
        },
      });
    });
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [listenHost, listenPort, targetHost, targetPort] = process.argv.slice(2);
  if (!listenHost || !listenPort || !targetHost || !targetPort) {
    console.error('usage: tcp-forward.ts LISTEN_HOST LISTEN_PORT TARGET_HOST TARGET_PORT');
    process.exit(2);
  }
  forwardTcp(listenHost, Number(listenPort), targetHost, Number(targetPort)).then(
    () => {
      console.log('listening');
      // Open pulls are cut: the namespace is going away with it.
      process.once('SIGTERM', () => process.exit(0));
    },
    (err: Error) => {
      console.error(`cannot listen on ${listenHost}:${listenPort}: ${err.message}`);
      process.exit(1);
    },
  );
}
