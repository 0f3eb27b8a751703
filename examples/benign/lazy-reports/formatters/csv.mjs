// CSV output (RFC 4180 quoting).
const quote = (value) => {
  const text = String(value ?? '');
  return /[",\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
};

export function render(rows) {
  const columns = rows.length > 0 ? Object.keys(rows[0]) : [];
  const lines = [columns.join(','), ...rows.map((row) => columns.map((c) => quote(row[c])).join(','))];
  return { rows: rows.length, contentType: 'text/csv', body: `${lines.join('\r\n')}\r\n` };
}
