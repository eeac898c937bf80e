import net from 'node:net';
import type { Logger } from '../log.js';

/** The control plane sees IPv4 clients as `1.2.3.4` or `::ffff:1.2.3.4`. */
function ipv4Of(address: string | undefined): string | null {
  if (!address) return null;
  const plain = address.startsWith('::ffff:') ? address.slice(7) : address;
  return net.isIPv4(plain) ? plain : null;
}

/**
 * Keeps app containers off the control plane. The admin API and the git remote listen on
 * the host (0.0.0.0 by default), which every container reaches through its network's
 * gateway; so a connection whose source address lies in a MinPaas app network is closed
 * on arrival, synchronously, before one byte of HTTP is read.
 *
 * The subnets come from Docker: every network labelled by MinPaas (of any installation on
 * the engine), re-read every `refreshMs`, and each new app network is added by the runner
 * before its first container starts. Why not iptables: rules MinPaas would have to own,
 * order against Docker's own chains and clean up on every exit; this check lives and dies
 * with the server.
 */
export class AppNetworkGuard {
  private blocked = new net.BlockList();
  private readonly known = new Set<string>();
  private timer: NodeJS.Timeout | undefined;

  /** `subnets()` lists the IPv4 CIDRs of every MinPaas app network. */
  constructor(
    private readonly subnets: () => Promise<string[]>,
    private readonly log: Logger,
    private readonly refreshMs = 2000,
  ) {}

  /** Adds one network's subnets at once (a network the runner just created). */
  add(cidrs: string[]): void {
    for (const cidr of cidrs) {
      const [network, prefix] = cidr.split('/');
      if (!network || !net.isIPv4(network) || !prefix || this.known.has(cidr)) continue;
      this.blocked.addSubnet(network, Number(prefix), 'ipv4');
      this.known.add(cidr);
    }
  }

  /** Re-reads every app network (removed ones drop out). */
  async refresh(): Promise<void> {
    const cidrs = await this.subnets();
    this.blocked = new net.BlockList();
    this.known.clear();
    this.add(cidrs);
  }

  isAppAddress(address: string | undefined): boolean {
    const ip = ipv4Of(address);
    return ip !== null && this.blocked.check(ip, 'ipv4');
  }

  /** Closes every connection to `server` that comes from an app container; refreshes in the background. */
  async attach(server: net.Server): Promise<void> {
    await this.refresh();
    server.prependListener('connection', (socket: net.Socket) => {
      if (!this.isAppAddress(socket.remoteAddress)) return;
      this.log.debug({ from: socket.remoteAddress }, 'refused a connection from an app container');
      socket.destroy();
    });
    this.timer = setInterval(() => {
      this.refresh().catch((err: unknown) => this.log.warn({ err: String(err) }, 'could not list the app networks'));
    }, this.refreshMs);
    this.timer.unref();
  }

  close(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }
}
