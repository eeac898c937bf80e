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

/**
 * What an element's JSON text was made from: its own keys in order and their values, for
 * plain objects and arrays (a few levels deep); anything else is kept as it is (and only
 * the very same value matches it).
 */
type Shape = { value: unknown; keys: string[]; children: Shape[] } | { value: unknown; keys: null; children: null };

const DEPTH = 4;

function shapeOf(value: unknown, depth = DEPTH): Shape {
  if (typeof value !== 'object' || value === null || depth === 0 || !isPlain(value)) return { value, keys: null, children: null };
  const keys = Object.keys(value);
  return { value, keys, children: keys.map((k) => shapeOf((value as Record<string, unknown>)[k], depth - 1)) };
}

/**
 * Whether `v` has the JSON text `shape` was made from: the same keys in the same order with
 * the same values. Walks `v` with for…in, so a listing's records are compared without
 * allocating (the point of remembering their text).
 */
function matches(v: unknown, shape: Shape): boolean {
  if (v === shape.value) return true;
  if (shape.keys === null || typeof v !== 'object' || v === null || !isPlain(v) || Array.isArray(v) !== Array.isArray(shape.value)) return false;
  let i = 0;
  for (const key in v) {
    if (!Object.hasOwn(v, key)) return false;
    if (key !== shape.keys[i] || !matches((v as Record<string, unknown>)[key], shape.children[i]!)) return false;
    i++;
  }
  return i === shape.keys.length;
}

/** Whether `a` and `b` have the same JSON text (plain data compared by value and key order). */
export function sameJson(a: unknown, b: unknown): boolean {
  return matches(b, shapeOf(a));
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
  private readonly last = new Map<string, { shape: Shape; bytes: Buffer }>();
  /** The last array made, and its elements: a listing where nothing changed is answered with it. */
  private lastParts: Buffer[] = [];
  private lastBody: Buffer = EMPTY;

  constructor(
    private readonly keyOf: (item: unknown) => string,
    /** Bounds memory (keys of deleted apps): all are forgotten when one more would pass it. */
    private readonly max = 10_000,
  ) {}

  bytes(item: unknown): Buffer {
    const key = this.keyOf(item);
    const hit = this.last.get(key);
    if (hit && matches(item, hit.shape)) return hit.bytes;
    const bytes = elementBytes(item);
    if (!hit && this.last.size >= this.max) this.last.clear();
    this.last.set(key, { shape: shapeOf(item), bytes });
    return bytes;
  }

  /**
   * Exactly the bytes of `JSON.stringify(items, null, 2)`. When every element is the same
   * as in the last array made, that array itself: no new buffer at all (a buffer per
   * listing, ~700 KB, each freed only by a later GC, grew the process by tens of MB).
   */
  array(items: readonly unknown[]): Buffer {
    if (items.length === 0) return EMPTY;
    let same = items.length === this.lastParts.length;
    const parts = new Array<Buffer>(items.length);
    for (let i = 0; i < items.length; i++) {
      parts[i] = this.bytes(items[i]);
      if (same && parts[i] !== this.lastParts[i]) same = false;
    }
    if (same) return this.lastBody;
    this.lastParts = parts;
    this.lastBody = joinElements(parts);
    return this.lastBody;
  }

  get size(): number {
    return this.last.size;
  }
}

function joinElements(elements: readonly Buffer[]): Buffer {
  const parts: Buffer[] = [OPEN];
  elements.forEach((element, i) => {
    if (i > 0) parts.push(SEPARATOR);
    parts.push(element);
  });
  parts.push(CLOSE);
  return Buffer.concat(parts);
}

/** Exactly the bytes of `JSON.stringify(items, null, 2)`, from remembered elements when given them. */
export function jsonArrayBytes(items: readonly unknown[], elements?: JsonElements): Buffer {
  if (elements) return elements.array(items);
  return items.length === 0 ? EMPTY : joinElements(items.map(elementBytes));
}

/** sendJson for an array, byte for byte the same response, written as one buffer. */
export function sendJsonArray(res: http.ServerResponse, status: number, items: readonly unknown[], elements?: JsonElements): void {
  const body = jsonArrayBytes(items, elements);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': body.length });
  res.end(body);
}
