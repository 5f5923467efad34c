/** Errors the client throws: one class per kind of failure, all extending WanPWAError. */

/** The rate-limit headers of an answer (RateLimit-Limit, -Remaining, -Reset; Retry-After). */
export interface RateLimit {
  limit: number | null;
  remaining: number | null;
  /** Seconds until the window resets. */
  reset: number | null;
  /** Seconds to wait before trying again (429 and 503 answers). */
  retryAfter: number | null;
}

export interface ErrorDetails {
  status?: number | null;
  code?: string;
  requestId?: string | null;
  rateLimit?: RateLimit;
  /** The whole `error` object of the answer: `fields`, `needed`, `required_scope`... */
  body?: Record<string, unknown> | null;
  cause?: unknown;
}

const NO_RATE_LIMIT: RateLimit = { limit: null, remaining: null, reset: null, retryAfter: null };

export class WanPWAError extends Error {
  /** The HTTP status, or null when no answer came. */
  readonly status: number | null;
  /** Stable and machine-readable (`insufficient_credits`, `insufficient_scope`...): branch on it. */
  readonly code: string;
  /** The X-Request-ID of the answer: quote it when asking for help. */
  readonly requestId: string | null;
  readonly rateLimit: RateLimit;
  readonly body: Record<string, unknown> | null;

  constructor(message: string, details: ErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = new.target.name;
    this.status = details.status ?? null;
    this.code = details.code ?? "error";
    this.requestId = details.requestId ?? null;
    this.rateLimit = details.rateLimit ?? NO_RATE_LIMIT;
    this.body = details.body ?? null;
  }

  /** Validation errors by field name (400), when the answer has them. */
  get fields(): Record<string, string[]> | undefined {
    return this.body?.fields as Record<string, string[]> | undefined;
  }

  /** Where the code is documented, when the answer links it. */
  get docUrl(): string | undefined {
    return this.body?.doc_url as string | undefined;
  }
}

/** 401: a missing, unknown or revoked key. */
export class AuthenticationError extends WanPWAError {}
/** 402: not enough credits, or the key's monthly cap reached; nothing was charged. */
export class InsufficientCreditsError extends WanPWAError {}
/** 403: outside the key's scopes (`insufficient_scope`, with `required_scope`) or forbidden. */
export class PermissionDeniedError extends WanPWAError {}
/** 404: no such object, or another user's. */
export class NotFoundError extends WanPWAError {}
/** 409: the object's state forbids the action (cancel a finished job, download too early). */
export class ConflictError extends WanPWAError {}
/** 400 and 422: invalid input (`fields` says which), or an Idempotency-Key reused differently. */
export class ValidationError extends WanPWAError {}
/** 429: a limit; `rateLimit.retryAfter` says when to try again. */
export class RateLimitError extends WanPWAError {}
/** 5xx. */
export class ServerError extends WanPWAError {}
/** No answer: the connection failed. */
export class APIConnectionError extends WanPWAError {}
/** No answer in time, or `wait` ran out of time. */
export class APITimeoutError extends APIConnectionError {}
/** A webhook whose signature, timestamp or body is not right. */
export class WebhookVerificationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "WebhookVerificationError";
  }
}

const BY_STATUS: Record<number, typeof WanPWAError> = {
  400: ValidationError,
  401: AuthenticationError,
  402: InsufficientCreditsError,
  403: PermissionDeniedError,
  404: NotFoundError,
  409: ConflictError,
  422: ValidationError,
  429: RateLimitError,
};

/** The error class for an answer's status. */
export function errorClassFor(status: number): typeof WanPWAError {
  return BY_STATUS[status] ?? (status >= 500 ? ServerError : WanPWAError);
}
