import type http from 'node:http';
import type { Principal } from '../auth/authenticator.js';
import { basicPassword } from '../auth/token.js';
import { isMinPaasError } from '../errors.js';
import type { Store } from '../store/store.js';
import type { ApiGuard } from './api-guard.js';
import { clientAddress, viewerFor } from './api-guard.js';

/** A git request turned away: status, message, headers. */
export interface GitRefusal {
  status: number;
  message: string;
  headers?: Record<string, string>;
}

/** What the git remote asks before node-git-server sees a request. */
export interface GitAccess {
  /** The caller from the Basic password (the token), or a 401 / 429. */
  authenticate(req: http.IncomingMessage): Promise<{ principal: Principal } | { refusal: GitRefusal }>;
  /** Push needs deploy on the app (creating one: owner), fetch needs read; an app the caller cannot see is a 404. */
  authorize(principal: Principal, app: string, pushing: boolean, req: http.IncomingMessage, res: http.ServerResponse): GitRefusal | null;
}

/** Git's side of the API guard: the same tokens, roles, failure limit and audit log. */
export function gitAccess(guard: ApiGuard, store: Store): GitAccess {
  return {
    async authenticate(req) {
      const headers: Record<string, string> = {};
      const res = { setHeader: (k: string, v: string) => void (headers[k] = v) } as unknown as http.ServerResponse;
      try {
        return { principal: await guard.authenticate(req, res, basicPassword(req.headers.authorization), 'Basic') };
      } catch (err) {
        if (!isMinPaasError(err)) throw err;
        const message = err.status === 429 ? `MinPaas: ${err.message}` : 'MinPaas: authentication required; use a token as the password (minpaas tokens:create)';
        return { refusal: { status: err.status, message, headers } };
      }
    },
    authorize(principal, app, pushing, req, res) {
      try {
        viewerFor(principal, store).require(app, pushing ? 'deploy' : 'read', store.getApp(app) !== undefined);
      } catch (err) {
        if (!isMinPaasError(err)) throw err;
        return { status: err.status, message: err.status === 404 ? `MinPaas: there is no app named ${app}` : `MinPaas: ${err.message}` };
      }
      if (pushing && req.method === 'POST') {
        res.once('close', () => guard.record({ principal, address: clientAddress(req), action: 'git.push', app, detail: null, status: res.headersSent ? res.statusCode : 499 }));
      }
      return null;
    },
  };
}
