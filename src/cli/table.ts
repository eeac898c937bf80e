/** Plain text a person reads: aligned columns, key/value lists, dates. */

/** Width in terminal columns, counting code points (good enough for names, URLs, dates). */
function width(text: string): number {
  return [...text].length;
}

/** One line per cell value: tabs and newlines would break the columns. */
function cell(value: string): string {
  return value.replace(/\r?\n/g, '⏎').replace(/\t/g, ' ');
}

/**
 * Columns separated by two spaces, each as wide as its widest cell; the last column is
 * not padded, so no line ends in spaces. Every line ends with a newline.
 */
export function renderTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const all = [headers, ...rows].map((row) => headers.map((_, i) => cell(row[i] ?? '')));
  const widths = headers.map((_, i) => Math.max(...all.map((row) => width(row[i]!))));
  return all
    .map((row) =>
      row
        .map((value, i) => (i === row.length - 1 ? value : value + ' '.repeat(widths[i]! - width(value))))
        .join('  ')
        .trimEnd(),
    )
    .map((line) => `${line}\n`)
    .join('');
}

/** `Key:  value` lines with the values aligned. */
export function renderPairs(pairs: readonly (readonly [string, string])[]): string {
  const keyWidth = Math.max(0, ...pairs.map(([key]) => width(key) + 1));
  return pairs.map(([key, value]) => `${`${key}:`.padEnd(keyWidth)}  ${cell(value)}`.trimEnd() + '\n').join('');
}

/** `2024-05-01T12:00:03.123Z` → `2024-05-01 12:00:03 UTC`; anything else as it is. */
export function formatTime(iso: string | null | undefined): string {
  if (!iso) return '-';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return `${date.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

/** Release numbers as people say them: `v3`, or `-` when there is none. */
export function formatRelease(release: number | null | undefined): string {
  return typeof release === 'number' ? `v${release}` : '-';
}

/** A config value on one line: multi-line values are shown JSON-quoted. */
export function formatValue(value: string): string {
  return /[\r\n\t]/.test(value) ? JSON.stringify(value) : value;
}

/** `A`, `A and B`, `A, B and C`. */
export function listWords(words: readonly string[]): string {
  if (words.length <= 1) return words.join('');
  return `${words.slice(0, -1).join(', ')} and ${words[words.length - 1]}`;
}
