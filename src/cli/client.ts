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

  constructor(status: number, message: string, details: string[] = []) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.details = details;
  }
}

/** A 4xx/5xx body as an ApiError: `{"error", "details"?}`, or the start of whatever else came. */
export function errorFromBody(status: number, body: string): ApiError {
  try {
    const parsed = JSON.parse(body) as { error?: unknown; details?: unknown };
    if (typeof parsed.error === 'string') {
      const details = Array.isArray(parsed.details) ? parsed.details.map(String) : [];
      return new ApiError(status, parsed.error, details);
    }
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
