// One table of the error codes shopml answers with, and their HTTP status and message.
export const ERRORS = {
  unauthorized: { status: 401, message: 'request signature or token is missing or invalid' },
  forbidden: { status: 403, message: 'not allowed for this shop' },
  not_found: { status: 404, message: 'not found' },
  unknown_flow_action: { status: 404, message: 'no Flow action with this handle' },
  bad_request: { status: 400, message: 'the request is malformed' },
  request_timeout: { status: 408, message: 'the request took too long to arrive' },
  payload_too_large: { status: 413, message: 'request body too large' },
  uri_too_long: { status: 414, message: 'a path segment is too long' },
  unsupported_media_type: { status: 415, message: 'unsupported content type or encoding: send UTF-8 JSON (or the form this route takes), uncompressed' },
  rate_limited: { status: 429, message: 'too many requests' },
  headers_too_large: { status: 431, message: 'request headers too large' },
  store_unavailable: { status: 503, message: 'the database cannot write right now; retry later' },
  internal: { status: 500, message: 'internal error' },
} as const;

export type ErrorCode = keyof typeof ERRORS;

export function errorBody(code: ErrorCode, detail?: string): { error: ErrorCode; message: string; detail?: string } {
  return detail ? { error: code, message: ERRORS[code].message, detail } : { error: code, message: ERRORS[code].message };
}

/** Seconds a client (Shopify) should wait before retrying when the store is unavailable. */
export const RETRY_AFTER_SECONDS = 5;
