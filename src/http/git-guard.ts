import type { GitAccess } from '../git/git-access.js';
import { basicPassword } from '../auth/token.js';
import { isMinPaasError } from '../errors.js';
import type { Store } from '../store/store.js';
import type { ApiGuard } from './api-guard.js';
import { clientAddress, viewerFor } from './api-guard.js';


/** Git's side of the API guard: the same tokens, roles, failure limit and audit log. */
export function gitAccess(guard: ApiGuard, store: Store): GitAccess {
  return {
    async authenticate(req) {
      const headers: Record<string, string> = {};
      try {
        return { principal: await guard.authenticate(req, (k, v) => void (headers[k] = v), basicPassword(req.headers.authorization), 'Basic') };
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
