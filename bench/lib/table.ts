/**
 * A GitHub-flavoured markdown table, padded so it also reads well in a terminal.
 */

/** Cell alignment: left (text) or right (numbers). */
export type Align = 'left' | 'right';

/** Renders `rows` under `header`; `align` defaults to right for every column but the first. */
export function markdownTable(header: string[], rows: (string | number)[][], align?: Align[]): string {
  const cells = [header, ...rows.map((r) => r.map(String))];
  for (const row of cells) {
    if (row.length !== header.length) throw new RangeError(`table row has ${row.length} cells, header has ${header.length}: ${row.join(' | ')}`);
  }
  const aligns = align ?? header.map((_, i) => (i === 0 ? 'left' : 'right'));
  const widths = header.map((_, i) => Math.max(3, ...cells.map((r) => r[i]!.length)));
  const pad = (text: string, i: number) => (aligns[i] === 'right' ? text.padStart(widths[i]!) : text.padEnd(widths[i]!));
  const line = (row: string[]) => `| ${row.map(pad).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (aligns[i] === 'right' ? `${'-'.repeat(w + 1)}:` : `:${'-'.repeat(w + 1)}`)).join('|')}|`;
  return [line(cells[0]!), rule, ...cells.slice(1).map(line)].join('\n');
}
