import type http from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { RouteAccess, Viewer } from '../auth/access.js';
import { isMinPaasError } from '../errors.js';
import { admitPage, type DashboardAuth } from './access.js';
import { cookieValue, SESSION_COOKIE, sessionCookie, type Session, type SessionStore } from './sessions.js';

/**
 * Who a dashboard request acts for and whether they may: the session of its cookie while
 * its token holds, each page's access rule, the audit log of changes, and live streams
 * that end when the token or the role goes.
 */
export class SessionGuard {
  constructor(
    private readonly auth: DashboardAuth,
    private readonly sessions: SessionStore,
    private readonly streamRecheckMs: number,
  ) {}

  /**
   * The session of the request's cookie, if it is live and its token still holds. A token
   * revoked or expired (or its user removed) ends the session on the next request.
   */
  session(req: http.IncomingMessage, res: http.ServerResponse): Session | undefined {
    const session = this.sessions.get(cookieValue(req.headers.cookie, SESSION_COOKIE));
    if (!session) return undefined;
    const principal = this.auth.current(session.principal);
    if (!principal) {
      this.sessions.destroy(session.id);
      res.setHeader('Set-Cookie', sessionCookie('', 0, isTls(req)));
      return undefined;
    }
    session.principal = principal;
    return session;
  }

  /** The page's access rule (as ApiGuard.admit applies the API's); a change it refuses is audited. */
  admit(req: http.IncomingMessage, session: Session, page: { access: RouteAccess; audit?: string | undefined }, app: string | undefined): Viewer {
    const viewer = this.auth.viewer(session.principal);
    try {
      admitPage(viewer, page.access, app, this.auth.appExists);
    } catch (err) {
      if (page.audit && app !== undefined && isMinPaasError(err)) this.audit(req, session, page.audit, app, null, err.status);
      throw err;
    }
    return viewer;
  }

  audit(req: http.IncomingMessage, session: Session, action: string, app: string, detail: Record<string, unknown> | null, status: number): void {
    this.auth.audit({ principal: session.principal, address: req.socket.remoteAddress ?? 'unknown', action, app, detail, status });
  }

  /**
   * A live stream outlasts the request that opened it: while it is open, its session's
   * token and the user's role are checked again every few seconds, and the stream ends
   * (and the session with a revoked token) as soon as either no longer holds.
   */
  endStreamWhenRefused(res: http.ServerResponse, session: Session, access: RouteAccess, app: string | undefined): void {
    const allowed = (): boolean => {
      const principal = this.auth.current(session.principal);
      if (!principal) {
        this.sessions.destroy(session.id);
        return false;
      }
      try {
        admitPage(this.auth.viewer(principal), access, app, this.auth.appExists);
        return true;
      } catch {
        return false;
      }
    };
    const timer = setInterval(() => {
      if (allowed()) return;
      clearInterval(timer);
      res.end();
    }, this.streamRecheckMs);
    timer.unref();
    res.once('close', () => clearInterval(timer));
  }
}

export function isTls(req: http.IncomingMessage): boolean {
  return (req.socket as TLSSocket).encrypted === true;
}
