import { ApiGuard } from '../http/api-guard.js';
import type { Route } from '../http/api-routes.js';
import { authRoutes } from '../http/auth-routes.js';
import type { GitAccess } from '../git/git-access.js';
import { gitAccess } from '../http/git-guard.js';
import type { Logger } from '../log.js';
import { KeyRotation, type Secrets } from '../secrets/rotation.js';
import type { Store } from '../store/store.js';
import { Authenticator } from './authenticator.js';
import { UserService } from './users.js';

export interface AccessLayer {
  authenticator: Authenticator;
  guard: ApiGuard;
  git: GitAccess;
  /** Users, tokens, access, audit, key rotation. */
  routes: Route[];
}

/** Users, tokens, roles, the audit log and key rotation, wired for the server (one call in server.ts). */
export function createAccessLayer(deps: { store: Store; secrets: Secrets; ownerToken: string; failuresPerMinute: number; log: Logger }): AccessLayer {
  const authenticator = new Authenticator(deps.store.auth, deps.ownerToken, { failuresPerMinute: deps.failuresPerMinute });
  const guard = new ApiGuard(authenticator, deps.store, deps.log);
  return {
    authenticator,
    guard,
    git: gitAccess(guard, deps.store),
    routes: authRoutes(new UserService(deps.store), new KeyRotation(deps.secrets, deps.store)),
  };
}
