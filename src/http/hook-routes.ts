import type http from 'node:http';
import { MinPaasError } from '../errors.js';
import type { ForgeName } from '../forges/events.js';
import type { WebhookService } from '../forges/webhooks.js';
import { sendJson } from './respond.js';

/** GitHub caps webhook payloads at 25 MB; a push of a few thousand commits fits in 10. */
export const MAX_HOOK_BODY_BYTES = 10 * 1024 * 1024;

const HOOK_PATH = /^\/hooks\/(github|gitlab)\/([^/]+)$/;

/** The webhook endpoints: no bearer token, the forge's signature instead (checked by the service). */
export interface HookEndpoints {
  matches(method: string | undefined, path: string): boolean;
  handle(req: http.IncomingMessage, res: http.ServerResponse, path: string): Promise<void>;
}

/** The body as bytes, untouched: the signature covers exactly these. */
export async function readRawBody(req: http.IncomingMessage, max: number): Promise<Buffer> {
  const tooLarge = (): MinPaasError => new MinPaasError('PAYLOAD_TOO_LARGE', `webhook body is too large (${max} bytes at most)`);
  if (Number(req.headers['content-length'] ?? 0) > max) {
    req.resume();
    throw tooLarge();
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > max) {
      req.resume();
      throw tooLarge();
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

export function hookEndpoints(webhooks: WebhookService): HookEndpoints {
  return {
    matches: (method, path) => method === 'POST' && HOOK_PATH.test(path),
    async handle(req, res, path) {
      const [, forge, app] = HOOK_PATH.exec(path)!;
      const raw = await readRawBody(req, MAX_HOOK_BODY_BYTES);
      const reply = await webhooks.handle(forge as ForgeName, app!, req.headers, raw);
      sendJson(res, reply.status, reply.body);
    },
  };
}
