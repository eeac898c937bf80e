import type http from 'node:http';

/** Records per piece: a piece stays well under V8's large-object size (~128 KB). */
const PER_PIECE = 50;

/**
 * The text of `JSON.stringify(items, null, 2)`, in pieces. GET /apps over 1,000 apps is
 * ~700 KB of JSON: as one string it lands in V8's large-object space, which only a full GC
 * frees, so each listing grew the heap (RSS) by that much until one ran. Pieces of 50
 * records are young-generation garbage, freed by the next scavenge.
 */
export function prettyJsonArrayPieces(items: readonly unknown[]): string[] {
  if (items.length === 0) return ['[]'];
  const pieces: string[] = [];
  for (let i = 0; i < items.length; i += PER_PIECE) {
    // A slice's own array text has its elements at the right depth: drop its "[\n" and "\n]".
    const elements = JSON.stringify(items.slice(i, i + PER_PIECE), null, 2).slice(2, -2);
    pieces.push(`${i === 0 ? '[\n' : ',\n'}${elements}`);
  }
  pieces.push('\n]');
  return pieces;
}

/** sendJson for an array, byte for byte the same response, written in pieces. */
export function sendJsonArray(res: http.ServerResponse, status: number, items: readonly unknown[]): void {
  const pieces = prettyJsonArrayPieces(items);
  const length = pieces.reduce((sum, piece) => sum + Buffer.byteLength(piece), 0);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': length });
  for (const piece of pieces) res.write(piece);
  res.end();
}
