/**
 * Failed dashboard logins per client address: after `limit` failures within `windowMs`,
 * further attempts are refused (429) until the oldest failure leaves the window, so a
 * weak MINPAAS_TOKEN cannot be guessed through the login form at speed.
 */
export class LoginThrottle {
  private readonly failures = new Map<string, number[]>();

  constructor(
    private readonly limit = 10,
    private readonly windowMs = 5 * 60_000,
    private readonly now: () => number = Date.now,
    private readonly maxClients = 10_000,
  ) {}

  /** Seconds until `client` may try again, or 0 when it may now. */
  retryAfter(client: string): number {
    const recent = this.recent(client);
    if (recent.length < this.limit) return 0;
    return Math.max(1, Math.ceil((recent[0]! + this.windowMs - this.now()) / 1000));
  }

  fail(client: string): void {
    if (!this.failures.has(client) && this.failures.size >= this.maxClients) {
      const oldest = this.failures.keys().next().value;
      if (oldest !== undefined) this.failures.delete(oldest);
    }
    this.failures.set(client, [...this.recent(client), this.now()]);
  }

  succeed(client: string): void {
    this.failures.delete(client);
  }

  private recent(client: string): number[] {
    const t = this.now();
    return (this.failures.get(client) ?? []).filter((at) => t - at < this.windowMs);
  }
}
