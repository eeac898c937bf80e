import http from 'node:http';
import https from 'node:https';
import readline from 'node:readline';

/**
 * The admin API over node:http (no client-side timeouts: builds and `logs -f` stream for
 * as long as they need). Error answers become ApiError with the API's own message.
 */

export class ApiError extends Error {
  readonly status: number;
  readonly details: string[];
  /** The API's error code (NOT_FOUND, CONFLICT, INTERNAL…); undefined from an older server. */
  readonly code: string | undefined;
  /** On internal errors: the request id to look up in the server log. */
  readonly requestId: string | undefined;

  constructor(status: number, message: string, details: string[] = [], extra: { code?: string | undefined; requestId?: string | undefined } = {}) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.details = details;
    this.code = extra.code;
    this.requestId = extra.requestId;
  }
}

/** An error object of the API (a body, or a stream's last line) as an ApiError; null when it is none. */
export function apiErrorFrom(status: number, parsed: unknown): ApiError | null {
  if (typeof parsed !== 'object' || parsed === null) return null;
  const obj = parsed as { error?: unknown; details?: unknown; code?: unknown; requestId?: unknown };
  if (typeof obj.error !== 'string') return null;
  const details = Array.isArray(obj.details) ? obj.details.map(String) : [];
  const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
  return new ApiError(status, obj.error, details, { code: str(obj.code), requestId: str(obj.requestId) });
}

/**
 * The line after the message, where the code helps: what kind of failure it was (so a
 * script or a person can tell a conflict from a missing app), and for internal errors
 * the request id an operator looks up in the server log.
 */
export function errorCodeLine(err: ApiError): string | null {
  if (!err.code) return null;
  if (err.code === 'INTERNAL') return `(${err.code}${err.requestId ? `; request id ${err.requestId} in the server log` : ''})`;
  // A conflict or a failed deploy: the code tells which kind (a missing app or a bad argument says so in its message).
  if (err.status === 409 || err.status === 422) return `(${err.code})`;
  return null;
}

/** A 4xx/5xx body as an ApiError: `{"error", "code", "details"?}`, or the start of whatever else came. */
export function errorFromBody(status: number, body: string): ApiError {
  try {
    const fromApi = apiErrorFrom(status, JSON.parse(body));
    if (fromApi) return fromApi;
  } catch {
    // not JSON: fall through
  }
  const text = body.trim().slice(0, 300);
  return new ApiError(status, `the server answered HTTP ${status}${text ? `: ${text}` : ''}`);
}

export interface StreamHandle {
  response: http.IncomingMessage;
  /** Closes the connection (the server then stops streaming). */
  close(): void;
}

export class ApiClient {
  constructor(
    readonly baseUrl: string,
    private readonly token: string | undefined,
  ) {}

  /** A JSON request; resolves with the parsed answer. */
  async json<T>(method: string, path: string, body?: unknown): Promise<T> {
    const { response } = await this.open(method, path, body);
    const text = await readAll(response);
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new ApiError(response.statusCode ?? 0, `the server's answer to ${method} ${path} is not JSON`);
    }
  }

  /** A text answer (logs). */
  async text(path: string): Promise<string> {
    const { response } = await this.open('GET', path);
    return readAll(response);
  }

  /**
   * Sends the request and resolves once a 2xx answer's headers arrived, leaving its body to
   * the caller; any other status is read and thrown as ApiError.
   */
  open(method: string, path: string, body?: unknown): Promise<StreamHandle> {
    const url = new URL(this.baseUrl + path);
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const headers: http.OutgoingHttpHeaders = { Accept: 'application/json, application/x-ndjson, text/plain' };
    if (this.token) headers.Authorization = `Bearer ${this.token}`;
    if (payload !== undefined) {
      headers['Content-Type'] = 'application/json';
      headers['Content-Length'] = Buffer.byteLength(payload);
    }
    const transport = url.protocol === 'https:' ? https : http;
    return new Promise((resolve, reject) => {
      const req = transport.request(url, { method, headers, agent: false }, (response) => {
        const status = response.statusCode ?? 0;
        if (status >= 200 && status < 300) {
          resolve({ response, close: () => req.destroy() });
          return;
        }
        readAll(response).then((text) => reject(errorFromBody(status, text)), reject);
      });
      req.on('error', (err) => reject(this.unreachable(err)));
      req.end(payload);
    });
  }

  /** Streams an NDJSON answer: `onLine` gets each parsed line (or the raw text when it is not JSON). */
  async ndjson(method: string, path: string, body: unknown, onLine: (line: unknown, raw: string) => void): Promise<void> {
    const { response } = await this.open(method, path, body);
    response.setEncoding('utf8');
    const lines = readline.createInterface({ input: response, crlfDelay: Infinity });
    for await (const raw of lines) {
      if (raw.trim() === '') continue;
      let parsed: unknown = raw;
      try {
        parsed = JSON.parse(raw);
      } catch {
        // shown as it is
      }
      onLine(parsed, raw);
    }
  }

  private unreachable(err: Error): Error {
    const code = (err as NodeJS.ErrnoException).code;
    const reason = code && !err.message.includes(code) ? `${code} ${err.message}` : err.message;
    return new Error(`cannot reach MinPaas at ${this.baseUrl} (${reason}); is "minpaas server" running? Set --url, MINPAAS_URL or run "minpaas login"`);
  }
}

function readAll(stream: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    stream.on('error', reject);
    stream.on('aborted', () => reject(new Error('the server closed the connection mid-answer')));
  });
}

/** `/apps/NAME...`: names go into paths encoded, whatever the user typed. */
export function appPath(app: string, rest = ''): string {
  return `/apps/${encodeURIComponent(app)}${rest}`;
}
