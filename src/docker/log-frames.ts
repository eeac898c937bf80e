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
