import type http from 'node:http';
import type { ForgeName } from '../forges/events.js';
import type { WebhookService } from '../forges/webhooks.js';
import { readBoundedBody, sendJson } from './respond.js';

/** GitHub caps webhook payloads at 25 MB; a push of a few thousand commits fits in 10. */
export const MAX_HOOK_BODY_BYTES = 10 * 1024 * 1024;

const HOOK_PATH = /^\/hooks\/(github|gitlab)\/([^/]+)$/;

/** The webhook endpoints: no bearer token, the forge's signature instead (checked by the service). */
export interface HookEndpoints {
  matches(method: string | undefined, path: string): boolean;
  handle(req: http.IncomingMessage, res: http.ServerResponse, path: string): Promise<void>;
}

export function hookEndpoints(webhooks: WebhookService): HookEndpoints {
  return {
    matches: (method, path) => method === 'POST' && HOOK_PATH.test(path),
    async handle(req, res, path) {
      const [, forge, app] = HOOK_PATH.exec(path)!;
      // The body as bytes, untouched: the signature covers exactly these.
      const raw = await readBoundedBody(req, MAX_HOOK_BODY_BYTES, 'webhook body');
      const reply = await webhooks.handle(forge as ForgeName, app!, req.headers, raw);
      sendJson(res, reply.status, reply.body);
    },
  };
}
