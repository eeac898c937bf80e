import crypto from 'node:crypto';
import type { AuthStore, TokenRow } from '../store/auth-store.js';
import { FailureLimiter } from './rate-limit.js';
import { parseToken, secretMatches } from './scoped-tokens.js';
import { tokenMatches } from './token.js';

/** Who a request acts for. */
export interface Principal {
  user: string;
  /** Owners (server-wide admins) may do everything. */
  owner: boolean;
  /** null for the owner token of <data>/token or MINPAAS_TOKEN. */
  tokenId: string | null;
  tokenName: string;
}

export type AuthOutcome =
  | { principal: Principal }
  | { refused: 'missing' | 'invalid' }
  /** Too many failures from this address: retry after that many seconds. */
  | { limited: number };

/** How long a token checked by the KDF is remembered (its row is still read on every request). */
const VERIFIED_TTL_MS = 10 * 60_000;
const VERIFIED_MAX = 5_000;

export const OWNER_USER = 'owner';
export const OWNER_TOKEN_NAME = 'owner token';

export interface AuthenticatorOptions {
  /** Failed authentications an address may make per minute before it is answered 429. */
  failuresPerMinute: number;
  clock?: () => number;
}

/**
 * Resolves a token to a principal: the owner token, or a scoped token checked with one
 * scrypt run (then remembered briefly by its SHA-256, so valid clients do not pay the KDF
 * on every request). Revocation, expiry and user removal take effect at once: the token's
 * row is read on every request, cached or not.
 */
export class Authenticator {
  private readonly limiter: FailureLimiter;
  private readonly verified = new Map<string, { id: string; at: number }>();
  private readonly clock: () => number;

  constructor(
    private readonly store: AuthStore,
    private readonly ownerToken: string,
    options: AuthenticatorOptions,
  ) {
    this.clock = options.clock ?? Date.now;
    this.limiter = new FailureLimiter(options.failuresPerMinute, 60_000, this.clock);
  }

  /** For the dashboard (cookie sessions): the token's principal, or null. Not rate-limited per address. */
  async authenticate(token: string): Promise<Principal | null> {
    const outcome = await this.check(token, undefined);
    return 'principal' in outcome ? outcome.principal : null;
  }

  /**
   * A principal found earlier (a dashboard session's), as its token stands now: null once
   * the token is revoked or expired or its user removed; a user's owner flag as it is now.
   * The owner token holds for the process's lifetime.
   */
  current(principal: Principal): Principal | null {
    if (principal.tokenId === null) return principal.owner ? principal : null;
    return this.principalOf(this.store.getToken(principal.tokenId)) ?? null;
  }

  /** `address` is the client's (for the failure limit); undefined skips the limit. */
  async check(token: string | undefined, address: string | undefined): Promise<AuthOutcome> {
    if (token === undefined || token === '') return { refused: 'missing' };
    if (tokenMatches(token, this.ownerToken)) return { principal: { user: OWNER_USER, owner: true, tokenId: null, tokenName: OWNER_TOKEN_NAME } };
    const digest = crypto.createHash('sha256').update(token).digest('hex');
    const cached = this.verified.get(digest);
    if (cached && this.clock() - cached.at < VERIFIED_TTL_MS) {
      const principal = this.principalOf(this.store.getToken(cached.id));
      if (principal) return { principal };
      this.verified.delete(digest);
    }
    const wait = address === undefined ? 0 : this.limiter.retryAfter(address);
    if (wait > 0) return { limited: wait };
    const principal = await this.verify(token);
    if (!principal) {
      if (address !== undefined) this.limiter.fail(address);
      return { refused: 'invalid' };
    }
    this.remember(digest, principal.tokenId!);
    this.store.touchToken(principal.tokenId!);
    return { principal };
  }

  /** Forgets remembered tokens (after a revocation nothing is needed: rows are read anyway). */
  forget(): void {
    this.verified.clear();
  }

  private async verify(token: string): Promise<Principal | undefined> {
    const parsed = parseToken(token);
    if (!parsed) return undefined;
    const row = this.store.getToken(parsed.id);
    const principal = this.principalOf(row);
    if (!row || !principal) return undefined;
    return (await secretMatches(parsed.secret, row.salt, row.hash)) ? principal : undefined;
  }

  /** The principal of a token row that is neither revoked nor expired and whose user exists. */
  private principalOf(row: TokenRow | undefined): Principal | undefined {
    if (!row || row.revokedAt !== null) return undefined;
    if (row.expiresAt !== null && Date.parse(row.expiresAt) <= this.clock()) return undefined;
    const user = this.store.getUser(row.user);
    if (!user) return undefined;
    return { user: user.name, owner: user.owner, tokenId: row.id, tokenName: row.name };
  }

  private remember(digest: string, id: string): void {
    if (this.verified.size >= VERIFIED_MAX) this.verified.delete(this.verified.keys().next().value!);
    this.verified.set(digest, { id, at: this.clock() });
  }
}
