import type http from 'node:http';

const OPEN = Buffer.from('[\n');
const SEPARATOR = Buffer.from(',\n');
const CLOSE = Buffer.from('\n]');
const EMPTY = Buffer.from('[]');

/** One element as `JSON.stringify(array, null, 2)` renders it: indented one level. */
function elementBytes(item: unknown): Buffer {
  // JSON text holds no raw newline inside a string (it is escaped), so every "\n" starts a line.
  return Buffer.from(`  ${(JSON.stringify(item, null, 2) ?? 'null').replace(/\n/g, '\n  ')}`);
}

/** Plain data whose JSON text is its fields' (no toJSON, no class with hidden state). */
function isPlain(v: object): boolean {
  const proto = Object.getPrototypeOf(v) as unknown;
  return Array.isArray(v) || proto === Object.prototype || proto === null;
}

/** Whether `a` and `b` have the same JSON text: the same keys in the same order, the same values. */
export function sameJson(a: unknown, b: unknown, depth = 4): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null || depth === 0) return false;
  if (!isPlain(a) || !isPlain(b) || Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  for (let i = 0; i < ka.length; i++) {
    const key = ka[i]!;
    if (key !== kb[i] || !sameJson((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key], depth - 1)) return false;
  }
  return true;
}

/**
 * The JSON bytes of each element of a listing, remembered per key while the element stays
 * the same. GET /apps over 1,000 apps was ~700 KB of JSON made anew on every request: about
 * 3 MB of garbage each time (the text, its copies, the bytes), so the young generation was
 * collected more than once per request and some of it was promoted, growing the heap. With
 * the bytes remembered, a listing compares records and copies bytes (off the V8 heap).
 * Items must not be changed after they were sent.
 */
export class JsonElements {
  private readonly last = new Map<string, { value: unknown; bytes: Buffer }>();

  constructor(
    private readonly keyOf: (item: unknown) => string,
    /** Bounds memory (keys of deleted apps): all are forgotten when one more would pass it. */
    private readonly max = 10_000,
  ) {}

  bytes(item: unknown): Buffer {
    const key = this.keyOf(item);
    const hit = this.last.get(key);
    if (hit && sameJson(hit.value, item)) return hit.bytes;
    const bytes = elementBytes(item);
    if (!hit && this.last.size >= this.max) this.last.clear();
    this.last.set(key, { value: item, bytes });
    return bytes;
  }

  get size(): number {
    return this.last.size;
  }
}

/** Exactly the bytes of `JSON.stringify(items, null, 2)`, from remembered elements where they are the same. */
export function jsonArrayBytes(items: readonly unknown[], elements?: JsonElements): Buffer {
  if (items.length === 0) return EMPTY;
  const parts: Buffer[] = [OPEN];
  items.forEach((item, i) => {
    if (i > 0) parts.push(SEPARATOR);
    parts.push(elements ? elements.bytes(item) : elementBytes(item));
  });
  parts.push(CLOSE);
  return Buffer.concat(parts);
}

/** sendJson for an array, byte for byte the same response, written as one buffer. */
export function sendJsonArray(res: http.ServerResponse, status: number, items: readonly unknown[], elements?: JsonElements): void {
  const body = jsonArrayBytes(items, elements);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': body.length });
  res.end(body);
}
