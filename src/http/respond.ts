import { randomUUID } from 'node:crypto';
import type http from 'node:http';
import { errorBody, ErrorCodes, errorMessage, isMinPaasError, MinPaasError } from '../errors.js';
import type { Logger } from '../log.js';

export const MAX_BODY_BYTES = 1024 * 1024;

export function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body, null, 2);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

export function sendText(res: http.ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

export const REQUEST_ID_HEADER = 'X-Request-Id';

/** Every request gets an id, sent back in X-Request-Id and put on its log lines and 500 bodies. */
export function assignRequestId(res: http.ServerResponse): string {
  const id = randomUUID();
  res.setHeader(REQUEST_ID_HEADER, id);
  return id;
}

/** The id assignRequestId gave this response (undefined outside the HTTP server). */
export function requestIdOf(res: http.ServerResponse): string | undefined {
  const id = res.getHeader(REQUEST_ID_HEADER);
  return typeof id === 'string' ? id : undefined;
}

export interface ErrorLogging {
  /** The request came without a valid token, so from anyone: its 4xx is logged at debug, or anyone could flood the log. */
  unauthenticated?: boolean;
  /** Takes secrets out of a message before it is logged (a token typed into a path). */
  scrub?: (text: string) => string;
}

/**
 * The one error serializer: typed errors become `{error, code, details?}` with their
 * status; anything else is a 500 `{error, code: "INTERNAL", requestId}` without internals,
 * logged at error with the same request id.
 */
export function sendError(res: http.ServerResponse, err: unknown, log: Logger, logging: ErrorLogging = {}): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const scrub = logging.scrub ?? ((text: string): string => text);
  const requestId = requestIdOf(res);
  if (isMinPaasError(err)) {
    if (err.status >= 500) log.error({ requestId, code: err.code }, scrub(err.message));
    else if (logging.unauthenticated || err.status === 401) log.debug({ code: err.code, status: err.status }, scrub(err.message));
    else log.info({ code: err.code, status: err.status }, scrub(err.message));
  } else {
    log.error({ requestId, err: scrub(errorMessage(err)), stack: (err as Error)?.stack }, 'internal error');
  }
  sendJson(res, isMinPaasError(err) ? err.status : 500, errorBody(err, requestId));
}

/**
 * An NDJSON answer, 200 at once: one JSON object a line. The status went out already, so
 * a failure is the error body every route answers plus its `status`, as the last line;
 * `fail` returns that status.
 */
export function ndjsonStream(res: http.ServerResponse): { send: (obj: unknown) => void; fail: (err: unknown) => number } {
  res.writeHead(200, { 'Content-Type': 'application/x-ndjson; charset=utf-8', 'Cache-Control': 'no-cache' });
  const send = (obj: unknown): void => {
    if (!res.writableEnded) res.write(`${JSON.stringify(obj)}\n`);
  };
  const fail = (err: unknown): number => {
    const error = errorBody(err, requestIdOf(res));
    const status = ErrorCodes[error.code];
    send({ ...error, status });
    return status;
  };
  return { send, fail };
}

/** Aborts when the client goes away before its answer is complete (its build or one-off run stops). */
export function clientGone(res: http.ServerResponse): AbortSignal {
  const gone = new AbortController();
  res.on('close', () => {
    if (!res.writableFinished) gone.abort();
  });
  return gone.signal;
}

/** Bodies already read, per request: the access check and the audit log read the body the handler reads. */
const bodies = new WeakMap<http.IncomingMessage, Promise<unknown>>();

/** Reads a JSON body of at most MAX_BODY_BYTES (once per request; later calls get the same); an empty body is `undefined`. */
export function readJson(req: http.IncomingMessage): Promise<unknown> {
  let body = bodies.get(req);
  if (!body) {
    body = readJsonFromStream(req);
    bodies.set(req, body);
  }
  return body;
}

/** The body if something read it already (never starts reading). */
export function bodyIfRead(req: http.IncomingMessage): Promise<unknown> | undefined {
  return bodies.get(req);
}

/**
 * A request body of at most `max` bytes, refused (413, `what` named) as soon as the
 * declared length or the bytes received go past it; the rest of an oversized body is drained.
 */
export async function readBoundedBody(req: http.IncomingMessage, max: number, what: string): Promise<Buffer> {
  const tooLarge = (): MinPaasError => new MinPaasError('PAYLOAD_TOO_LARGE', `${what} is too large (${max} bytes at most)`);
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

async function readJsonFromStream(req: http.IncomingMessage): Promise<unknown> {
  const raw = await readBoundedBody(req, MAX_BODY_BYTES, 'request body');
  const text = raw.toString('utf8');
  if (text.trim() === '') return undefined;
  const type = req.headers['content-type'] ?? '';
  if (type && !/^application\/json\b/i.test(type)) {
    throw new MinPaasError('INVALID_INPUT', `send JSON with Content-Type: application/json (got ${type})`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new MinPaasError('INVALID_INPUT', `request body is not valid JSON: ${errorMessage(err)}`);
  }
}

/** A JSON object body, or a 400 that says what was expected. */
export async function readJsonObject(req: http.IncomingMessage): Promise<Record<string, unknown>> {
  const body = await readJson(req);
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new MinPaasError('INVALID_INPUT', 'request body must be a JSON object');
  }
  return body as Record<string, unknown>;
}
