import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { jsonArrayBytes, JsonElements, sameJson, sendJsonArray } from '../../src/http/json-array.js';

const record = (i: number): Record<string, unknown> => ({
  name: `app-${i}`,
  env: i % 3 === 0 ? {} : { GREETING: `hällo ✓ "quoted"\nline ${i}`, EMPTY: '' },
  tags: i % 2 ? [] : [1, [2, { deep: null }]],
  release: i % 4 ? i : null,
  gone: undefined,
});

const byName = (): JsonElements => new JsonElements((r) => (r as { name: string }).name);

describe('JSON arrays from remembered elements', () => {
  it('are exactly JSON.stringify(items, null, 2), for no, one and many records, remembered or not', () => {
    const elements = byName();
    for (const n of [0, 1, 2, 50, 1000]) {
      const items = Array.from({ length: n }, (_, i) => record(i));
      const expected = JSON.stringify(items, null, 2);
      expect(jsonArrayBytes(items).toString('utf8'), `${n} records`).toBe(expected);
      expect(jsonArrayBytes(items, elements).toString('utf8'), `${n} records, first`).toBe(expected);
      // A later listing: new objects with the same fields use the remembered bytes.
      expect(jsonArrayBytes(items.map((r) => ({ ...r })), elements).toString('utf8'), `${n} records, again`).toBe(expected);
    }
    expect(elements.size).toBe(1000);
  });

  it('a listing where nothing changed is answered with the same buffer; any change makes a new one', () => {
    const elements = byName();
    const items = Array.from({ length: 20 }, (_, i) => record(i));
    const first = jsonArrayBytes(items, elements);
    expect(jsonArrayBytes(items.map((r) => ({ ...r })), elements)).toBe(first);
    const changed = items.map((r, i) => (i === 7 ? { ...r, release: 99 } : r));
    const second = jsonArrayBytes(changed, elements);
    expect(second).not.toBe(first);
    expect(second.toString('utf8')).toBe(JSON.stringify(changed, null, 2));
    expect(jsonArrayBytes(changed.slice(0, 19), elements).toString('utf8')).toBe(JSON.stringify(changed.slice(0, 19), null, 2));
    expect(first.toString('utf8')).toBe(JSON.stringify(items, null, 2));
  });

  it('a changed record is rendered anew: a value, a nested value, a key order, a new key', () => {
    const elements = byName();
    const base = { name: 'a', env: { A: '1', B: '2' }, resources: { memory: '512m', cpus: 1 }, release: 1 };
    jsonArrayBytes([base], elements);
    const changes = [
      { ...base, release: 2 },
      { ...base, env: { A: '1', B: '3' } },
      { ...base, env: { B: '2', A: '1' } },
      { ...base, resources: { memory: '512m', cpus: 0.5 } },
      { ...base, extra: null },
      { name: 'a', env: base.env, resources: base.resources, release: 1, when: new Date(0) },
    ];
    for (const changed of changes) expect(jsonArrayBytes([changed], elements).toString('utf8')).toBe(JSON.stringify([changed], null, 2));
  });

  it('sameJson compares plain data only, by value and key order', () => {
    expect(sameJson({ a: [1, { b: 'x' }] }, { a: [1, { b: 'x' }] })).toBe(true);
    expect(sameJson({ a: 1, b: 2 }, { b: 2, a: 1 })).toBe(false);
    expect(sameJson([1, 2], { 0: 1, 1: 2 })).toBe(false);
    expect(sameJson(new Date(0), new Date(1))).toBe(false);
    expect(sameJson({ a: undefined }, {})).toBe(false);
  });

  it('answers with the same bytes and a Content-Length that counts UTF-8 bytes', async () => {
    const items = Array.from({ length: 120 }, (_, i) => record(i));
    const elements = byName();
    const server = http.createServer((_req, res) => sendJsonArray(res, 200, items, elements));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      for (let i = 0; i < 2; i++) {
        const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
        const body = Buffer.from(await res.arrayBuffer());
        expect(res.status).toBe(200);
        expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
        expect(Number(res.headers.get('content-length'))).toBe(body.length);
        expect(body.toString('utf8')).toBe(JSON.stringify(items, null, 2));
      }
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
