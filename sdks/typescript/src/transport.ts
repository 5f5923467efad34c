/** HTTP for the resources: the key, JSON or multipart bodies, typed errors, and retries with
 * jittered backoff that honour Retry-After. */

import {
  APIConnectionError,
  APITimeoutError,
  errorClassFor,
  type RateLimit,
  type WanPWAError,
} from "./errors.js";

export type Fetch = (input: string, init: RequestInit) => Promise<Response>;

export interface ClientOptions {
  /** `wan_...`; defaults to the WANPWA_API_KEY environment variable where there is one. */
  apiKey?: string;
  /** The site, such as `https://wan.example.com`; defaults to WANPWA_BASE_URL. */
  baseUrl?: string;
  /** Another fetch (a proxy's, a test's); the platform's by default. */
  fetch?: Fetch;
  /** Retries of a request that got 408, 429, 5xx or no answer (default 3). */
  maxRetries?: number;
  /** Seconds to wait for each answer (default 60). */
  timeout?: number;
}

export type Query = Record<string, string | number | boolean | null | undefined>;

export interface RequestOptions {
  query?: Query;
  json?: unknown;
  form?: FormData;
  /** Sent as Idempotency-Key, the same on every retry of this request. */
  idempotencyKey?: string;
}

const RETRY_STATUSES = new Set([408, 429, 500, 502, 503, 504]);
const BACKOFF_BASE = 0.5; // seconds
const BACKOFF_CAP = 8;
const RETRY_AFTER_CAP = 60;

function environment(name: string): string | undefined {
  return typeof process === "undefined" ? undefined : process.env?.[name];
}

export class Transport {
  readonly baseUrl: string;
  readonly maxRetries: number;
  readonly timeout: number;
  readonly #apiKey: string;
  readonly #fetch: Fetch;

  constructor(options: ClientOptions = {}) {
    const apiKey = options.apiKey ?? environment("WANPWA_API_KEY");
    const baseUrl = options.baseUrl ?? environment("WANPWA_BASE_URL");
    if (!apiKey) throw new TypeError("Give an apiKey (or set WANPWA_API_KEY).");
    if (!baseUrl) throw new TypeError("Give a baseUrl (or set WANPWA_BASE_URL).");
    this.#apiKey = apiKey;
    this.baseUrl = baseUrl.replace(/\/+$/, "");
    this.#fetch = options.fetch ?? ((input, init) => fetch(input, init));
    this.maxRetries = options.maxRetries ?? 3;
    this.timeout = options.timeout ?? 60;
  }

  /** The answer's JSON (undefined for 204). */
  async json<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const response = await this.send(method, path, options);
    if (response.status === 204) return undefined as T;
    return (await response.json()) as T;
  }

  /** A successful answer, after retries; throws the typed error of a failed one. */
  async send(method: string, path: string, options: RequestOptions = {}): Promise<Response> {
    const url = this.url(path, options.query);
    const headers: Record<string, string> = {
      Authorization: `Bearer ${this.#apiKey}`,
      Accept: "application/json",
    };
    let body: string | FormData | undefined;
    if (options.form) body = options.form; // fetch sets the multipart boundary
    else if (options.json !== undefined) {
      body = JSON.stringify(options.json);
      headers["Content-Type"] = "application/json";
    }
    if (options.idempotencyKey) headers["Idempotency-Key"] = options.idempotencyKey;

    for (let attempt = 0; ; attempt++) {
      const retriesLeft = attempt < this.maxRetries;
      let response: Response;
      try {
        response = await this.#fetch(url, {
          method,
          headers,
          body,
          signal: AbortSignal.timeout(this.timeout * 1000),
        });
      } catch (cause) {
        if (!retriesLeft) throw connectionError(cause, method, url, this.timeout);
        await sleep(backoff(attempt));
        continue;
      }
      if (response.ok) return response;
      if (!retriesLeft || !RETRY_STATUSES.has(response.status)) throw await errorFrom(response);
      await response.body?.cancel();
      await sleep(retryAfter(response.headers) ?? backoff(attempt));
    }
  }

  url(path: string, query: Query = {}): string {
    const url = new URL(this.baseUrl + path);
    for (const [name, value] of Object.entries(query)) {
      if (value !== undefined && value !== null) url.searchParams.set(name, String(value));
    }
    return url.toString();
  }
}

/** Exponential from 0.5 s to at most 8 s, each wait drawn between half and all of it. */
function backoff(attempt: number): number {
  const ceiling = Math.min(BACKOFF_CAP, BACKOFF_BASE * 2 ** attempt);
  return ceiling / 2 + (Math.random() * ceiling) / 2;
}

/** Retry-After in seconds (a number or an HTTP date), at most a minute; null when absent. */
function retryAfter(headers: Headers): number | null {
  const value = headers.get("retry-after")?.trim();
  if (!value) return null;
  const seconds = /^\d+(\.\d+)?$/.test(value)
    ? Number(value)
    : (Date.parse(value) - Date.now()) / 1000;
  if (Number.isNaN(seconds)) return null;
  return Math.min(RETRY_AFTER_CAP, Math.max(0, seconds));
}

function sleep(seconds: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, seconds * 1000));
}

function numberHeader(headers: Headers, name: string): number | null {
  const value = headers.get(name);
  if (value === null || value.trim() === "") return null;
  const number = Number(value);
  return Number.isFinite(number) ? number : null;
}

export function rateLimitOf(headers: Headers): RateLimit {
  return {
    limit: numberHeader(headers, "ratelimit-limit"),
    remaining: numberHeader(headers, "ratelimit-remaining"),
    reset: numberHeader(headers, "ratelimit-reset"),
    retryAfter: numberHeader(headers, "retry-after"),
  };
}

/** The typed error of a failed answer, from our error shape (or whatever else came). */
async function errorFrom(response: Response): Promise<WanPWAError> {
  const text = await response.text();
  let error: Record<string, unknown> | null = null;
  try {
    const parsed: unknown = JSON.parse(text);
    const inner = (parsed as { error?: unknown } | null)?.error;
    if (inner && typeof inner === "object") error = inner as Record<string, unknown>;
  } catch {
    // not JSON: a proxy's page, say; the status still tells the kind
  }
  const requestId =
    response.headers.get("x-request-id") ?? (error?.request_id as string | undefined) ?? null;
  const message =
    (error?.message as string | undefined) ??
    `HTTP ${response.status} ${response.statusText}`.trim();
  const ErrorClass = errorClassFor(response.status);
  return new ErrorClass(message, {
    status: response.status,
    code: (error?.code as string | undefined) ?? `http_${response.status}`,
    requestId,
    rateLimit: rateLimitOf(response.headers),
    body: error,
  });
}

function connectionError(cause: unknown, method: string, url: string, timeout: number) {
  const name = (cause as { name?: string } | null)?.name;
  if (name === "TimeoutError" || name === "AbortError") {
    return new APITimeoutError(`${method} ${url}: no answer within ${timeout} s.`, {
      code: "timeout",
      cause,
    });
  }
  // fetch's own message is vague ("fetch failed"); Node puts the reason in its cause.
  const reason = (cause as { cause?: { message?: string } } | null)?.cause?.message;
  return new APIConnectionError(`${method} ${url}: ${reason ?? String(cause)}`, {
    code: "connection_error",
    cause,
  });
}

/** A new Idempotency-Key, shared by a request's retries. */
export function idempotencyKey(): string {
  return `sdk-${crypto.randomUUID()}`;
}
