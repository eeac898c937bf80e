import { errorMessage } from '../errors.js';
import type { Logger } from '../log.js';
import type { Router } from '../router/types.js';
import type { Runner } from '../runner/types.js';
import type { Store } from '../store/store.js';
import { routeOf } from './run-release.js';

export interface FollowerPorts {
  runner: Runner;
  router: Router;
  store: Pick<Store, 'listApps' | 'setPlacement'>;
  log: Logger;
  /** Runs `fn` under the app's deploy lock (waiting), so a move and a deploy never overlap. */
  queued: <T>(app: string, fn: () => Promise<T>) => Promise<T>;
}

/**
 * While the server runs: when Docker restarts an app's serving container (a crash, the
 * restart policy) it may come back at another address; the store and the route follow.
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

  /** Re-reads the container's address; a serving container that moved is routed to again. */
  async follow(container: string): Promise<boolean> {
    const owner = this.ports.store.listApps().find((a) => a.container === container);
    // Not the serving container of any app (a deploy's new one, or a retired one).
    if (!owner) return false;
    return this.ports.queued(owner.name, () => this.move(container));
  }

  private async move(container: string): Promise<boolean> {
    const { runner, router, store, log } = this.ports;
    // Read again under the lock: a deploy that ran meanwhile may have replaced it.
    const app = store.listApps().find((a) => a.container === container);
    if (!app) return false;
    try {
      const address = (await runner.inspect(container))?.address;
      if (!address || (address.host === app.address?.host && address.port === app.address.port)) return false;
      store.setPlacement(app.name, { container, address });
      await router.serve(routeOf(app, address));
      await router.persist();
      log.info({ app: app.name, container, address }, 'container restarted at a new address; route followed');
      return true;
    } catch (err) {
      log.error({ app: app.name, container, err: errorMessage(err) }, 'could not follow a container to its new address');
      return false;
    }
  }
}
