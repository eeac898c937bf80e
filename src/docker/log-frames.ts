/**
 * Docker's multiplexed log format (containers without a TTY): each frame is an 8-byte
 * header (stream id, 0, 0, 0, big-endian size) and then that many bytes. Pure, so it is
 * tested without Docker. A truncated last frame keeps what arrived.
 */
export function demuxBuffer(buf: Buffer): string {
  const parts: Buffer[] = [];
  let offset = 0;
  while (offset + 8 <= buf.length) {
    const size = buf.readUInt32BE(offset + 4);
    parts.push(buf.subarray(offset + 8, offset + 8 + size));
    offset += 8 + size;
  }
  return Buffer.concat(parts).toString('utf8');
}

/**
 * Keeps the last `maxBytes` of a container's log while it streams in, so a read of a
 * huge log holds at most that much in memory. `framed` is Docker's multiplexed format
 * (no TTY); frames may be split anywhere across chunks.
 */
export class LogTail {
  private readonly header = Buffer.alloc(8);
  private headerFill = 0;
  /** Payload bytes of the current frame still to come. */
  private remaining = 0;
  private readonly parts: Buffer[] = [];
  private size = 0;
  private cut = false;

  constructor(
    private readonly maxBytes: number,
    private readonly framed: boolean,
  ) {}

  push(chunk: Buffer): void {
    if (!this.framed) {
      this.keep(chunk);
      return;
    }
    let offset = 0;
    while (offset < chunk.length) {
      if (this.remaining > 0) {
        const take = Math.min(this.remaining, chunk.length - offset);
        this.keep(chunk.subarray(offset, offset + take));
        this.remaining -= take;
        offset += take;
        continue;
      }
      const take = Math.min(8 - this.headerFill, chunk.length - offset);
      chunk.copy(this.header, this.headerFill, offset, offset + take);
      this.headerFill += take;
      offset += take;
      if (this.headerFill === 8) {
        this.remaining = this.header.readUInt32BE(4);
        this.headerFill = 0;
      }
    }
  }

  /** The kept text; when earlier output was dropped, it starts at a whole line, after a note. */
  text(): string {
    let text = Buffer.concat(this.parts).toString('utf8');
    if (!this.cut) return text;
    const newline = text.indexOf('\n');
    if (newline >= 0) text = text.slice(newline + 1);
    return `[MinPaas: earlier output cut; this shows the last ${Math.round(this.maxBytes / 1024)} KiB, ask for fewer lines with tail=N]\n${text}`;
  }

  private keep(part: Buffer): void {
    if (part.length === 0) return;
    this.parts.push(part);
    this.size += part.length;
    while (this.size > this.maxBytes) {
      this.cut = true;
      const first = this.parts[0]!;
      const excess = this.size - this.maxBytes;
      if (first.length <= excess) {
        this.parts.shift();
        this.size -= first.length;
      } else {
        this.parts[0] = first.subarray(excess);
        this.size -= excess;
      }
    }
  }
}
