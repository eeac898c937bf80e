/**
 * Failed authentications per client address in a fixed window. Past the limit the address
 * is answered 429 (with Retry-After) before any KDF runs, so a flood of bad tokens costs
 * next to nothing and cannot starve the checks of valid ones.
 */
export class FailureLimiter {
  private readonly windows = new Map<string, { start: number; failures: number }>();

  constructor(
    private readonly maxFailures: number,
    private readonly windowMs: number,
    private readonly clock: () => number = Date.now,
  ) {}

  /** Seconds until `address` may try again, or 0 when it may now. */
  retryAfter(address: string): number {
    const w = this.current(address);
    if (!w || w.failures < this.maxFailures) return 0;
    return Math.max(1, Math.ceil((w.start + this.windowMs - this.clock()) / 1000));
  }

  fail(address: string): void {
    const w = this.current(address);
    if (w) w.failures++;
    else this.windows.set(address, { start: this.clock(), failures: 1 });
    if (this.windows.size > 10_000) this.sweep();
  }

  private current(address: string): { start: number; failures: number } | undefined {
    const w = this.windows.get(address);
    if (w && this.clock() - w.start >= this.windowMs) {
      this.windows.delete(address);
      return undefined;
    }
    return w;
  }

  private sweep(): void {
    for (const address of [...this.windows.keys()]) this.current(address);
  }
}
