// Link preview: fetches a caller-supplied URL and echoes the start of the answer (SSRF).
export const handler = async (event) => {
  const url = event.queryStringParameters?.url ?? '';
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(800), redirect: 'manual' });
    const text = await response.text();
    return {
      statusCode: 200,
      body: JSON.stringify({ status: response.status, preview: text.slice(0, 300) }),
    };
  } catch (error) {
    const code = error?.code ?? error?.cause?.code ?? error?.name ?? 'error';
    if (code === 'EPHEMERA_ERR_BLOCKED' || code === 'EPHEMERA_ERR_EGRESS_BLOCKED') throw error;
    return { statusCode: 200, body: JSON.stringify({ status: null, error: String(code) }) };
  }
};
