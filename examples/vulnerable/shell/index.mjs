// ServerlessGoat-style: a document URL from the query string goes into a curl command line.
import { exec } from 'node:child_process';

export const handler = async (event) => {
  const url = event.queryStringParameters?.document_url ?? '';
  const command = `curl --silent --max-time 1 -o /dev/null -w "%{http_code}" "${url}"`;
  const output = await new Promise((resolve) => {
    exec(command, { timeout: 3000 }, (error, stdout, stderr) =>
      resolve({
        error: error ? (error.code ?? error.message) : null,
        stdout: String(stdout),
        stderr: String(stderr).slice(0, 200),
      }),
    );
  });
  return { statusCode: 200, body: JSON.stringify(output) };
};
