import { MinPaasError } from '../errors.js';
import type { ServiceRunner, SwarmNode } from '../runner/swarm-types.js';

export interface NodeServiceDeps {
  swarm?: ServiceRunner;
  /** How long moving the tasks of one service may take. */
  rolloutTimeoutMs: number;
}

/** `minpaas nodes`: the swarm's machines, and draining one without a failed request. */
export class NodeService {
  constructor(private readonly deps: NodeServiceDeps) {}

  list(): Promise<SwarmNode[]> {
    return this.swarm().nodes();
  }

  async drain(node: string): Promise<SwarmNode> {
    await this.swarm().drain(assertNodeRef(node), this.deps.rolloutTimeoutMs);
    return this.find(node);
  }

  async activate(node: string): Promise<SwarmNode> {
    await this.swarm().activate(assertNodeRef(node));
    return this.find(node);
  }

  private async find(node: string): Promise<SwarmNode> {
    const found = (await this.list()).find((n) => n.id === node || n.hostname === node);
    if (!found) throw new MinPaasError('NOT_FOUND', `no swarm node ${node}; minpaas nodes lists them`);
    return found;
  }

  private swarm(): ServiceRunner {
    if (!this.deps.swarm) throw new MinPaasError('SWARM_UNAVAILABLE', 'this MinPaas runs no Swarm scheduler');
    return this.deps.swarm;
  }
}

/** A node id or host name, as `minpaas nodes` shows them. */
export function assertNodeRef(value: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$/.test(value)) throw new MinPaasError('INVALID_INPUT', 'a node is named by its id or host name, as `minpaas nodes` shows them');
  return value;
}
