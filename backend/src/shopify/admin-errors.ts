// Typed failures of Admin API calls. Every one names the shop and the GraphQL operation; none
// carries request headers, so the access token cannot leak into logs through an error.

export interface GraphqlError {
  message: string;
  locations?: { line: number; column: number }[];
  path?: (string | number)[];
  extensions?: { code?: string; [k: string]: unknown };
}

export interface UserError {
  field?: string[] | null;
  message: string;
  code?: string | null;
  [k: string]: unknown;
}

export class AdminApiError extends Error {
  readonly shop: string;
  readonly operationName: string | null;
  constructor(message: string, ctx: { shop: string; operationName: string | null }, options?: ErrorOptions) {
    super(`${ctx.operationName ?? 'anonymous operation'} on ${ctx.shop}: ${message}`, options);
    this.name = 'AdminApiError';
    this.shop = ctx.shop;
    this.operationName = ctx.operationName;
  }
}

/** Throttled by the cost bucket (HTTP 200 + THROTTLED). Normally retried; surfaces as the cause of
 * RetriesExhaustedError when throttling outlasts the retry budget. */
export class ThrottledError extends AdminApiError {
  readonly requestedCost: number | null;
  readonly available: number | null;
  constructor(ctx: { shop: string; operationName: string | null }, requestedCost: number | null, available: number | null) {
    super(`throttled (requested ${requestedCost ?? '?'} points, ${available ?? '?'} available)`, ctx);
    this.name = 'ThrottledError';
    this.requestedCost = requestedCost;
    this.available = available;
  }
}

export class HttpError extends AdminApiError {
  readonly status: number;
  /** First 500 characters of the response body, for diagnosis. */
  readonly body: string;
  constructor(ctx: { shop: string; operationName: string | null }, status: number, body: string) {
    super(`HTTP ${status}${body ? `: ${body.slice(0, 200)}` : ''}`, ctx);
    this.name = 'HttpError';
    this.status = status;
    this.body = body.slice(0, 500);
  }
}

export class NetworkError extends AdminApiError {
  constructor(ctx: { shop: string; operationName: string | null }, cause: unknown) {
    super(`network error: ${(cause as Error)?.message ?? String(cause)}`, ctx, { cause });
    this.name = 'NetworkError';
  }
}

export class GraphqlErrors extends AdminApiError {
  readonly errors: GraphqlError[];
  constructor(ctx: { shop: string; operationName: string | null }, errors: GraphqlError[]) {
    super(`GraphQL errors: ${errors.map((e) => e.message).join('; ')}`, ctx);
    this.name = 'GraphqlErrors';
    this.errors = errors;
  }
}

export class UserErrors extends AdminApiError {
  readonly userErrors: UserError[];
  constructor(ctx: { shop: string; operationName: string | null }, userErrors: UserError[]) {
    super(`user errors: ${userErrors.map((e) => `${e.field?.join('.') ?? '-'}: ${e.message}${e.code ? ` (${e.code})` : ''}`).join('; ')}`, ctx);
    this.name = 'UserErrors';
    this.userErrors = userErrors;
  }
}

export class RetriesExhaustedError extends AdminApiError {
  readonly attempts: number;
  readonly lastError: AdminApiError;
  constructor(ctx: { shop: string; operationName: string | null }, attempts: number, lastError: AdminApiError) {
    super(`gave up after ${attempts} attempts; last: ${lastError.message}`, ctx, { cause: lastError });
    this.name = 'RetriesExhaustedError';
    this.attempts = attempts;
    this.lastError = lastError;
  }
}

/** Throws UserErrors when a mutation payload reports any; returns the payload otherwise. */
export function assertNoUserErrors<P extends { userErrors?: UserError[] | null }>(
  payload: P | null | undefined,
  ctx: { shop: string; operationName: string | null } = { shop: 'unknown shop', operationName: null },
): P {
  if (!payload) throw new AdminApiError('mutation returned no payload', ctx);
  if (payload.userErrors && payload.userErrors.length > 0) throw new UserErrors(ctx, payload.userErrors);
  return payload;
}
