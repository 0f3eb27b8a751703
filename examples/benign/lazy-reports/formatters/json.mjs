// JSON output.
export function render(rows, { title }) {
  return { rows: rows.length, contentType: 'application/json', body: JSON.stringify({ title, rows }) };
}
