// Serves files from ./files by a caller-supplied name: path.join does not stop `../`.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const FILES = path.join(path.dirname(fileURLToPath(import.meta.url)), 'files');

export const handler = async (event) => {
  const name = event.queryStringParameters?.file ?? 'readme.txt';
  try {
    const content = await readFile(path.join(FILES, name), 'utf8');
    return { statusCode: 200, body: JSON.stringify({ name, content: content.slice(0, 2000) }) };
  } catch (error) {
    if (error?.code === 'EPHEMERA_ERR_BLOCKED' || error?.code === 'EPHEMERA_ERR_FS_BLOCKED') throw error;
    return { statusCode: 404, body: JSON.stringify({ name, error: error?.code ?? 'error' }) };
  }
};
