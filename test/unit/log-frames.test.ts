import { describe, expect, it } from 'vitest';
import { demuxBuffer } from '../../src/docker/log-frames.js';

function frame(stream: 1 | 2, text: string): Buffer {
  const body = Buffer.from(text);
  const header = Buffer.alloc(8);
  header.writeUInt8(stream, 0);
  header.writeUInt32BE(body.length, 4);
  return Buffer.concat([header, body]);
}

describe("Docker's multiplexed log frames", () => {
  it('joins stdout and stderr frames in order, without headers', () => {
    const buf = Buffer.concat([frame(1, 'booted\n'), frame(2, 'warning: x\n'), frame(1, 'GET /\n')]);
    expect(demuxBuffer(buf)).toBe('booted\nwarning: x\nGET /\n');
  });
  it('keeps multi-byte characters whole across the frame boundary', () => {
    const euro = Buffer.from('€');
    const buf = Buffer.concat([frame(1, ''), Buffer.from([1, 0, 0, 0, 0, 0, 0, 1]), euro.subarray(0, 1), Buffer.from([1, 0, 0, 0, 0, 0, 0, 2]), euro.subarray(1)]);
    expect(demuxBuffer(buf)).toBe('€');
  });
  it('keeps what arrived of a truncated last frame', () => {
    const whole = frame(1, 'complete line\n');
    const cut = frame(1, 'cut off here').subarray(0, 8 + 3);
    expect(demuxBuffer(Buffer.concat([whole, cut]))).toBe('complete line\ncut');
  });
  it('ignores a header cut short', () => {
    expect(demuxBuffer(Buffer.concat([frame(2, 'ok\n'), Buffer.from([1, 0, 0])]))).toBe('ok\n');
  });
  it('is empty for no frames', () => expect(demuxBuffer(Buffer.alloc(0))).toBe(''));
});
