/** A plain-text table for stdout, and the same table as Markdown for docs/benchmarks.md. */
export interface Table {
  title: string;
  headers: string[];
  rows: string[][];
  notes?: string[];
}

export function renderText(table: Table): string {
  const widths = table.headers.map((h, i) =>
    Math.max(h.length, ...table.rows.map((r) => (r[i] ?? '').length)),
  );
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  const out = [`\n== ${table.title} ==`, line(table.headers), line(widths.map((w) => '-'.repeat(w)))];
  for (const row of table.rows) out.push(line(row));
  for (const note of table.notes ?? []) out.push(`  * ${note}`);
  return out.join('\n');
}

export function renderMarkdown(table: Table): string {
  const esc = (c: string) => c.replaceAll('|', '\\|');
  const out = [
    `#### ${table.title}`,
    '',
    `| ${table.headers.map(esc).join(' | ')} |`,
    `|${table.headers.map(() => '---').join('|')}|`,
  ];
  for (const row of table.rows) out.push(`| ${row.map(esc).join(' | ')} |`);
  if (table.notes && table.notes.length > 0) out.push('', ...table.notes.map((n) => `- ${n}`));
  return out.join('\n');
}
