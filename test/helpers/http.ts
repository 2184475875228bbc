export interface HttpResult<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

export interface HttpInit {
  headers?: Record<string, string>;
  body?: unknown;
  rawBody?: string | Buffer | FormData;
  /** The request is aborted (and the test fails) past this: a hang is a failure, not a wait. */
  timeoutMs?: number;
}

/** One HTTP request; a JSON body is parsed, anything else is kept as text. */
export async function httpRequest<T>(
  baseUrl: string,
  method: string,
  path: string,
  init: HttpInit = {},
): Promise<HttpResult<T>> {
  const headers: Record<string, string> = { ...init.headers };
  let body: string | Buffer | FormData | undefined;
  if (init.rawBody !== undefined) body = init.rawBody;
  else if (init.body !== undefined) {
    body = JSON.stringify(init.body);
    headers['content-type'] ??= 'application/json';
  }
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    headers,
    body,
    signal: AbortSignal.timeout(init.timeoutMs ?? 30_000),
  });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON: keep the text
  }
  return { status: response.status, headers: response.headers, body: parsed as T, text };
}
