import type http from 'node:http';
import { MinPaasError } from '../errors.js';

const MAX_FORM_BYTES = 256 * 1024;

/** An `application/x-www-form-urlencoded` body (what the dashboard's forms send). */
export async function readForm(req: http.IncomingMessage): Promise<URLSearchParams> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') throw new MinPaasError('INVALID_INPUT', 'send the form as application/x-www-form-urlencoded');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_FORM_BYTES) throw new MinPaasError('INVALID_INPUT', `the form is larger than ${MAX_FORM_BYTES / 1024} KiB`);
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}
