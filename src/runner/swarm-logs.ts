import { StringDecoder } from 'node:string_decoder';
import { PassThrough, Writable } from 'node:stream';

/** A service log line's task, from Docker's details (`…,com.docker.swarm.task.id=ID message`). */
export function parseDetailedLine(line: string): { task: string | null; text: string } {
  const match = /^(\S*com\.docker\.swarm\.task\.id=([a-z0-9]+)\S*) ?(.*)$/.exec(line);
  if (!match) return { task: null, text: line };
  return { task: match[2]!, text: match[3]! };
}

/** `[web.2] text`: the replica a line came from, as `minpaas logs` shows merged tasks. */
export function prefixed(name: string | null, text: string): string {
  return `[${name ?? 'task'}] ${text}`;
}

/** Rewrites each complete line written to it; a partial last line waits for its end. */
export class LineRewriter extends Writable {
  private buffered = '';
  // A character split across two chunks (Docker splits long lines by bytes) decodes whole.
  private readonly decoder = new StringDecoder('utf8');

  constructor(private readonly onLine: (line: string) => void) {
    super();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (err?: Error | null) => void): void {
    this.buffered += this.decoder.write(chunk);
    const lines = this.buffered.split('\n');
    this.buffered = lines.pop() ?? '';
    for (const line of lines) this.onLine(line);
    done();
  }

  override _final(done: (err?: Error | null) => void): void {
    this.buffered += this.decoder.end();
    if (this.buffered) this.onLine(this.buffered);
    this.buffered = '';
    done();
  }
}

/** A stream of prefixed lines that several sources write into; ends when stopped. */
export function mergedOutput(): PassThrough {
  return new PassThrough();
}
