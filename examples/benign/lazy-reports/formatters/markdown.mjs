// Markdown table output, for the back office's chat notifications.
import { stripVTControlCharacters } from 'node:util';

// Values can come from terminals and CSV imports: drop ANSI escapes, keep the table intact.
const cell = (value) => stripVTControlCharacters(String(value ?? '')).replaceAll('|', '\\|');

export function render(rows, { title }) {
  const columns = rows.length > 0 ? Object.keys(rows[0]) : [];
  const body = [
    `## ${title}`,
    '',
    `| ${columns.join(' | ')} |`,
    `| ${columns.map(() => '---').join(' | ')} |`,
    ...rows.map((row) => `| ${columns.map((c) => cell(row[c])).join(' | ')} |`),
  ].join('\n');
  return { rows: rows.length, contentType: 'text/markdown', body };
}
