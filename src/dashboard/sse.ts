import type http from 'node:http';

/** Server-sent events: one `data:` line per log line; a comment now and then finds clients that left. */
export class SseStream {
  private readonly heartbeat: NodeJS.Timeout;

  constructor(private readonly res: http.ServerResponse) {
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      'X-Content-Type-Options': 'nosniff',
      Connection: 'keep-alive',
    });
    res.flushHeaders();
    this.heartbeat = setInterval(() => this.write(': keep-alive\n\n'), 15_000);
    this.heartbeat.unref();
    res.once('close', () => clearInterval(this.heartbeat));
  }

  get closed(): boolean {
    return this.res.destroyed || this.res.writableEnded;
  }

  /** One message per line: a line can hold no newline, so none can forge a field. */
  line(text: string): void {
    this.write(`data: ${text.replace(/[\r\n]/g, ' ')}\n\n`);
  }

  event(name: string, data: string): void {
    this.write(`event: ${name}\ndata: ${data.replace(/[\r\n]/g, ' ')}\n\n`);
  }

  end(): void {
    clearInterval(this.heartbeat);
    if (!this.closed) this.res.end();
  }

  onClose(fn: () => void): void {
    this.res.once('close', fn);
  }

  private write(chunk: string): void {
    if (!this.closed) this.res.write(chunk);
  }
}

/** Splits a byte stream into lines, holding a partial last line until it ends. */
export function lineSplitter(onLine: (line: string) => void): { push: (chunk: Buffer | string) => void; flush: () => void } {
  let rest = '';
  return {
    push(chunk) {
      rest += chunk.toString();
      const lines = rest.split('\n');
      rest = lines.pop()!;
      for (const line of lines) onLine(line.replace(/\r$/, ''));
    },
    flush() {
      if (rest) onLine(rest);
      rest = '';
    },
  };
}
