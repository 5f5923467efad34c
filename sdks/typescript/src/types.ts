/** The API's types, named: taken from the generated schema.ts (never edit that file by hand). */

import type { components, operations } from "./schema.js";
import type { FileInput } from "./files.js";

type Schemas = components["schemas"];

export type Generation = Schemas["Generation"];
export type GenerationStatus = Schemas["GenerationStatusEnum"];
export type Balance = Schemas["Balance"];
export type LedgerEntry = Schemas["LedgerEntry"];
export type CreditPack = Schemas["CreditPack"];
export type Checkout = Schemas["Checkout"];
export type CatalogModel = Schemas["CatalogModel"];
export type ApiError = Schemas["ErrorObject"];

/** What `generations.create` takes: the API's fields, with files as FileInput. */
export type GenerationCreateParams = Omit<Schemas["GenerationCreateRequest"], "image" | "audio"> & {
  /** Image-to-video: the first frame. */
  image?: FileInput | null;
  /** An audio track, for the models that take one. */
  audio?: FileInput | null;
  /** An https URL told of this generation's end (signed with the account's per-request secret). */
  webhook?: string;
  /** Which ends to tell `webhook` of; all three by default. */
  webhook_events_filter?: ("succeeded" | "failed" | "canceled")[];
};

export type GenerationListParams = NonNullable<operations["generations_list"]["parameters"]["query"]>;
export type LedgerListParams = NonNullable<operations["credits_ledger"]["parameters"]["query"]>;

/** The events we send to webhook endpoints. */
export type WebhookEventType =
  | "generation.succeeded"
  | "generation.failed"
  | "generation.canceled"
  | "order.paid"
  | "credits.low";

// The webhook endpoints' types follow the API's (WebhookEndpoint, Delivery... in its schema).

/** A webhook endpoint of the account. */
export interface WebhookEndpoint {
  readonly id: number;
  readonly url: string;
  readonly description: string;
  events: WebhookEventType[];
  readonly enabled: boolean;
  /** Why it is disabled (by you, or after failing). */
  readonly disabled_reason: string;
  /** Since when every delivery failed; null while it succeeds. */
  readonly failing_since: string | null;
  readonly created_at: string;
  readonly updated_at: string;
}

/** The answer to create and rotateSecret: the endpoint and its `whsec_` secret, shown once. */
export interface WebhookEndpointWithSecret extends WebhookEndpoint {
  readonly secret: string;
}

export interface WebhookEndpointCreateParams {
  /** Your receiver's https address (a public host). */
  url: string;
  events: WebhookEventType[];
  description?: string;
}

export interface WebhookEndpointUpdateParams {
  url?: string;
  events?: WebhookEventType[];
  description?: string;
  /** false stops deliveries; true starts them again (and clears the failures). */
  enabled?: boolean;
}

/** One attempt to deliver an event. */
export interface WebhookAttempt {
  readonly attempt: number;
  readonly succeeded: boolean;
  /** Your receiver's HTTP status; null if none came. */
  readonly status_code: number | null;
  readonly latency_ms: number | null;
  /** The first 1 KB of your receiver's answer. */
  readonly answer: string;
  readonly error: string;
  readonly started_at: string;
  readonly finished_at: string;
}

/** One event sent (or being sent) to an endpoint, with every attempt. */
export interface WebhookDelivery {
  readonly id: number;
  /** The `webhook-id` header: dedupe on it. */
  readonly webhook_id: string;
  readonly type: string;
  readonly status: "pending" | "delivered" | "failed";
  readonly attempts: number;
  readonly next_attempt_at: string | null;
  readonly delivered_at: string | null;
  readonly created_at: string;
  readonly attempts_log: WebhookAttempt[];
}

/** A verified webhook: what we sent. */
export interface WebhookEvent<Data = Record<string, unknown>> {
  type: WebhookEventType | (string & {});
  timestamp: string;
  data: Data;
}
