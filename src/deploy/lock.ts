import { MinPaasError } from '../errors.js';

export type Unlock = () => void;

/**
 * One deploy per app at a time (Dokku's deploy lock). Pushes wait their turn; API calls
 * that cannot wait get a 409 instead. Locks live in memory: a crash frees them with the
 * process, and start-up marks the deploys it interrupted as failed.
 */
export class DeployLocks {
  /** Per app, the promise that settles when the last holder or waiter is done. */
  private readonly tails = new Map<string, Promise<void>>();

  /** A deploy of the app runs or waits (webhooks queue theirs instead of waiting). */
  isBusy(app: string): boolean {
    return this.tails.has(app);
  }

  /** The lock now, or a 409 naming the app when a deploy holds it or waits for it. */
  tryAcquire(app: string): Unlock {
    if (this.tails.has(app)) {
      throw new MinPaasError('DEPLOY_IN_PROGRESS', `a deploy of ${app} is already running; try again when it has finished`);
    }
    return this.enqueue(app).unlock;
  }

  /** Waits for the lock; `onWait` is told once when the wait begins. */
  async acquire(app: string, onWait?: () => void): Promise<Unlock> {
    const previous = this.tails.get(app);
    const { unlock } = this.enqueue(app);
    if (previous) {
      onWait?.();
      await previous;
    }
    return unlock;
  }

  /** Synchronously joins the app's queue, so no other caller can slip in between. */
  private enqueue(app: string): { unlock: Unlock } {
    const previous = this.tails.get(app) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((resolve) => (release = resolve));
    const tail = previous.then(() => mine);
    this.tails.set(app, tail);
    let done = false;
    const unlock: Unlock = () => {
      if (done) return;
      done = true;
      if (this.tails.get(app) === tail) this.tails.delete(app);
      release();
    };
    return { unlock };
  }
}
