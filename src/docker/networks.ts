import type Docker from 'dockerode';
import type { Readable } from 'node:stream';
import { isNotFound } from './status.js';
import { appLabels, LABEL_APP, LABEL_MANAGED, ownedFilter } from './labels.js';

export interface OwnedNetwork {
  id: string;
  name: string;
  app: string | null;
  /** IPv4 subnets in CIDR form. */
  subnets: string[];
}

function toNetwork(n: Docker.NetworkInspectInfo): OwnedNetwork {
  return {
    id: n.Id,
    name: n.Name,
    app: n.Labels?.[LABEL_APP] ?? null,
    subnets: (n.IPAM?.Config ?? []).map((c) => c.Subnet).filter((s): s is string => typeof s === 'string' && s.includes('.')),
  };
}

/** The container name of one line of Docker's event stream, or null. */
export function parseStartEvent(line: string): string | null {
  try {
    const event = JSON.parse(line) as { Action?: string; Actor?: { Attributes?: { name?: string } } };
    return event.Action === 'start' ? (event.Actor?.Attributes?.name ?? null) : null;
  } catch {
    return null;
  }
}

/**
 * Docker networks (one bridge per app) and the container start events that tell when a
 * container came back, perhaps at another address.
 */
export class DockerNetworks {
  constructor(
    private readonly docker: Docker,
    private readonly instance: string,
  ) {}

  /**
   * The app's own bridge network, created when missing. Docker keeps separate bridge
   * networks apart, so one app's containers cannot reach another's.
   */
  async ensure(name: string, app: string): Promise<OwnedNetwork> {
    const found = await this.inspect(name);
    if (found) return found;
    try {
      await this.docker.createNetwork({ Name: name, Driver: 'bridge', CheckDuplicate: true, Labels: appLabels(this.instance, app) });
    } catch (err) {
      // Another deploy created it meanwhile.
      if ((err as { statusCode?: number }).statusCode !== 409) throw err;
    }
    const created = await this.inspect(name);
    if (!created) throw new Error(`network ${name} vanished right after it was created`);
    return created;
  }

  async inspect(name: string): Promise<OwnedNetwork | null> {
    try {
      return toNetwork(await this.docker.getNetwork(name).inspect());
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
  }

  /** Networks this installation created (of one app, or all); with `anyInstance`, every MinPaas installation's. */
  async listOwned(app?: string, anyInstance = false): Promise<OwnedNetwork[]> {
    const filters = anyInstance ? { label: [`${LABEL_MANAGED}=true`] } : ownedFilter(this.instance, app);
    const list = await this.docker.listNetworks({ filters });
    return list.map(toNetwork);
  }

  /** Removes a network; a missing one is fine. */
  async remove(name: string): Promise<void> {
    try {
      await this.docker.getNetwork(name).remove();
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  /** Joins a container to one more network (the Swarm edge to the overlay). */
  async connect(network: string, container: string): Promise<void> {
    await this.docker.getNetwork(network).connect({ Container: container });
  }

  /**
   * Calls `onStart` with the name of each owned container Docker starts (a restart after
   * a crash among them) until the returned function is called.
   */
  async watchStarts(onStart: (container: string) => void): Promise<() => void> {
    const filters = { type: ['container' as const], event: ['start'], label: ownedFilter(this.instance).label };
    const stream = (await this.docker.getEvents({ filters })) as unknown as Readable;
    let buffered = '';
    stream.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) {
        const name = parseStartEvent(line);
        if (name) onStart(name);
      }
    });
    stream.on('error', () => undefined);
    return () => stream.destroy();
  }
}
