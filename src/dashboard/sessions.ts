import crypto from 'node:crypto';
import type { Principal } from '../auth/authenticator.js';

export interface Flash {
  kind: 'ok' | 'error';
  text: string;
}

export interface Session {
  id: string;
  /** Who logged in (never the token itself): checked against the token's row on every request. */
  principal: Principal;
  /** Sent back in a hidden field with every change (synchronizer token). */
  csrf: string;
  createdAt: number;
  lastSeen: number;
  /** A message for the next page (after a POST that redirects). */
  flash?: Flash;
}

export interface SessionLimits {
  /** A session ends this long after login, used or not. */
  maxAgeMs: number;
  /** …or this long after its last request. */
  idleMs: number;
  /** Bounds memory: the oldest session goes when one more logs in. */
  maxSessions: number;
}

export const DEFAULT_SESSION_LIMITS: SessionLimits = { maxAgeMs: 12 * 3600_000, idleMs: 3600_000, maxSessions: 1000 };

/** Server-side sessions, in memory: a restart logs everyone out, which is fine for an admin UI. */
export class SessionStore {
  private readonly sessions = new Map<string, Session>();

  constructor(
    private readonly limits: SessionLimits = DEFAULT_SESSION_LIMITS,
    private readonly now: () => number = Date.now,
  ) {}

  create(principal: Principal): Session {
    this.sweep();
    while (this.sessions.size >= this.limits.maxSessions) {
      const oldest = this.sessions.keys().next().value;
      if (oldest === undefined) break;
      this.sessions.delete(oldest);
    }
    const t = this.now();
    const session: Session = { id: randomId(), principal, csrf: randomId(), createdAt: t, lastSeen: t };
    this.sessions.set(session.id, session);
    return session;
  }

  /** The live session with this id (its idle clock restarts), or undefined. */
  get(id: string | undefined): Session | undefined {
    if (!id) return undefined;
    const session = this.sessions.get(id);
    if (!session) return undefined;
    if (this.expired(session)) {
      this.sessions.delete(id);
      return undefined;
    }
    session.lastSeen = this.now();
    return session;
  }

  destroy(id: string): void {
    this.sessions.delete(id);
  }

  get size(): number {
    return this.sessions.size;
  }

  private expired(s: Session): boolean {
    const t = this.now();
    return t - s.createdAt > this.limits.maxAgeMs || t - s.lastSeen > this.limits.idleMs;
  }

  private sweep(): void {
    for (const [id, s] of this.sessions) if (this.expired(s)) this.sessions.delete(id);
  }
}

function randomId(): string {
  return crypto.randomBytes(32).toString('base64url');
}

export const SESSION_COOKIE = 'minpaas_session';

/** The value of one cookie from a Cookie header. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** HttpOnly (no script reads it), SameSite=Strict (no other site sends it), Secure over TLS. */
export function sessionCookie(id: string, maxAgeSeconds: number, secure: boolean): string {
  return [`${SESSION_COOKIE}=${id}`, 'Path=/', 'HttpOnly', 'SameSite=Strict', `Max-Age=${maxAgeSeconds}`, ...(secure ? ['Secure'] : [])].join('; ');
}
