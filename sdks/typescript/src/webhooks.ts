/** Checking the webhooks we send (Standard Webhooks) with Web Crypto: runs in Node, Deno,
 * workers and browsers alike. */

import { WebhookVerificationError } from "./errors.js";
import type { WebhookEvent } from "./types.js";

export { WebhookVerificationError };

/** A Headers object, or a plain record such as Node's `request.headers`. */
export type WebhookHeaders = Headers | Record<string, string | string[] | undefined>;

export interface VerifyOptions {
  /** Seconds a timestamp may be off from now (default 300). */
  tolerance?: number;
}

const encoder = new TextEncoder();

function header(headers: WebhookHeaders, name: string): string {
  let value: string | string[] | null | undefined;
  if (headers instanceof Headers) value = headers.get(name);
  else {
    const found = Object.keys(headers).find((key) => key.toLowerCase() === name);
    value = found === undefined ? undefined : headers[found];
  }
  if (Array.isArray(value)) value = value.join(" ");
  if (!value) throw new WebhookVerificationError(`The ${name} header is missing.`);
  return value;
}

function fromBase64(text: string): Uint8Array<ArrayBuffer> {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

function bytesOf(body: string | Uint8Array | ArrayBuffer): Uint8Array {
  if (typeof body === "string") return encoder.encode(body);
  return body instanceof Uint8Array ? body : new Uint8Array(body);
}

/**
 * Checks a webhook's signature and age and returns its event. `body` must be the raw body as
 * received (a string or bytes), not JSON parsed and stringified again. `secret` is the endpoint's
 * `whsec_...`. Rejects with WebhookVerificationError when anything is wrong.
 */
export async function verify<Data = Record<string, unknown>>(
  headers: WebhookHeaders,
  body: string | Uint8Array | ArrayBuffer,
  secret: string,
  options: VerifyOptions = {},
): Promise<WebhookEvent<Data>> {
  const id = header(headers, "webhook-id");
  const timestamp = header(headers, "webhook-timestamp");
  const signatures = header(headers, "webhook-signature");
  if (!/^\d+$/.test(timestamp)) {
    throw new WebhookVerificationError("The webhook-timestamp header is not a number.");
  }
  const age = Math.abs(Date.now() / 1000 - Number(timestamp));
  if (age > (options.tolerance ?? 300)) {
    throw new WebhookVerificationError("The webhook's timestamp is too far from now.");
  }

  let keyBytes: Uint8Array<ArrayBuffer>;
  try {
    keyBytes = fromBase64(secret.startsWith("whsec_") ? secret.slice("whsec_".length) : secret);
  } catch {
    throw new TypeError("The secret is not a whsec_ secret (base64 after the prefix).");
  }
  const key = await crypto.subtle.importKey(
    "raw",
    keyBytes,
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["verify"],
  );
  const raw = bytesOf(body);
  const prefix = encoder.encode(`${id}.${timestamp}.`);
  const signed = new Uint8Array(prefix.length + raw.length);
  signed.set(prefix);
  signed.set(raw, prefix.length);

  for (const entry of signatures.split(" ")) {
    const [version, signature] = entry.split(",", 2);
    if (version !== "v1" || !signature) continue;
    let candidate: Uint8Array<ArrayBuffer>;
    try {
      candidate = fromBase64(signature);
    } catch {
      continue;
    }
    // subtle.verify compares in constant time.
    if (await crypto.subtle.verify("HMAC", key, candidate, signed)) {
      try {
        return JSON.parse(new TextDecoder().decode(raw)) as WebhookEvent<Data>;
      } catch {
        throw new WebhookVerificationError("The webhook's body is not JSON.");
      }
    }
  }
  throw new WebhookVerificationError("No signature of the webhook matches the secret.");
}
