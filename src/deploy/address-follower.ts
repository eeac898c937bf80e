import { errorMessage } from '../errors.js';
import type { Logger } from '../log.js';
import type { Router } from '../router/types.js';
import type { Runner } from '../runner/types.js';
import type { Store } from '../store/store.js';
import { routeFor } from './processes.js';

export interface FollowerPorts {
  runner: Runner;
  router: Router;
  store: Pick<Store, 'listApps' | 'listProcesses' | 'setProcessAddress'>;
  log: Logger;
  /** Runs `fn` under the app's deploy lock (waiting), so a move and a deploy never overlap. */
  queued: <T>(app: string, fn: () => Promise<T>) => Promise<T>;
}

/**
 * While the server runs: when Docker restarts a web process of a serving release (a
 * crash, the restart policy) it may come back at another address; the store and the
 * route (the whole web group) follow.
 */
export class AddressFollower {
  private stop: (() => void) | undefined;

  constructor(private readonly ports: FollowerPorts) {}

  async start(): Promise<void> {
    this.stop = await this.ports.runner.watchStarts((name) => void this.follow(name));
  }

  close(): void {
    this.stop?.();
    this.stop = undefined;
  }

  /** Re-reads the container's address; a serving web process that moved is routed to again. */
  async follow(container: string): Promise<boolean> {
    const owner = this.ports.store.listProcesses().find((p) => p.container === container);
    // Not a web process of a serving release (a deploy's new one, a retired one, a worker).
    if (!owner || owner.address === null) return false;
    return this.ports.queued(owner.app, () => this.move(owner.app, container));
  }

  private async move(appName: string, container: string): Promise<boolean> {
    const { runner, router, store, log } = this.ports;
    // Read again under the lock: a deploy that ran meanwhile may have replaced it.
    const process = store.listProcesses(appName).find((p) => p.container === container);
    const app = store.listApps().find((a) => a.name === appName);
    if (!process?.address || !app) return false;
    try {
      const address = (await runner.inspect(container))?.address;
      if (!address || (address.host === process.address.host && address.port === process.address.port)) return false;
      store.setProcessAddress(app.name, container, address);
      await router.serve(routeFor(app, store.listProcesses(app.name)));
      await router.persist();
      log.info({ app: app.name, container, address }, 'container restarted at a new address; route followed');
      return true;
    } catch (err) {
      log.error({ app: app.name, container, err: errorMessage(err) }, 'could not follow a container to its new address');
      return false;
    }
  }
}
