import type http from 'node:http';
import type { Principal } from '../auth/authenticator.js';

/** A git request turned away: status, message, headers. */
export interface GitRefusal {
  status: number;
  message: string;
  headers?: Record<string, string>;
}

/** What the git remote asks before node-git-server sees a request (implemented by http/git-guard.ts). */
export interface GitAccess {
  /** The caller from the Basic password (the token), or a 401 / 429. */
  authenticate(req: http.IncomingMessage): Promise<{ principal: Principal } | { refusal: GitRefusal }>;
  /** Push needs deploy on the app (creating one: owner), fetch needs read; an app the caller cannot see is a 404. */
  authorize(principal: Principal, app: string, pushing: boolean, req: http.IncomingMessage, res: http.ServerResponse): GitRefusal | null;
}
