import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { prettyJsonArrayPieces, sendJsonArray } from '../../src/http/json-array.js';

const record = (i: number): unknown => ({
  name: `app-${i}`,
  env: i % 3 === 0 ? {} : { GREETING: `hällo ✓ "quoted"\nline ${i}`, EMPTY: '' },
  tags: i % 2 ? [] : [1, [2, { deep: null }]],
  release: i % 4 ? i : null,
});

describe('JSON arrays in pieces', () => {
  it('joins to exactly JSON.stringify(items, null, 2), for no, one, a piece of and many records', () => {
    for (const n of [0, 1, 49, 50, 51, 1000]) {
      const items = Array.from({ length: n }, (_, i) => record(i));
      const pieces = prettyJsonArrayPieces(items);
      expect(pieces.join(''), `${n} records`).toBe(JSON.stringify(items, null, 2));
      if (n > 50) expect(pieces.length).toBeGreaterThan(2);
    }
  });

  it('answers with the same bytes and a Content-Length that counts UTF-8 bytes', async () => {
    const items = Array.from({ length: 120 }, (_, i) => record(i));
    const server = http.createServer((_req, res) => sendJsonArray(res, 200, items));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
      const body = Buffer.from(await res.arrayBuffer());
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
      expect(Number(res.headers.get('content-length'))).toBe(body.length);
      expect(body.toString('utf8')).toBe(JSON.stringify(items, null, 2));
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
