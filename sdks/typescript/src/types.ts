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

/** A webhook endpoint of the account. */
export interface WebhookEndpoint {
  id: number;
  url: string;
  events: WebhookEventType[];
  description: string;
  enabled: boolean;
  /** Only in the answers to create and rotate-secret: shown once. */
  secret?: string;
  [field: string]: unknown;
}

export interface WebhookEndpointParams {
  url?: string;
  events?: WebhookEventType[];
  description?: string;
  enabled?: boolean;
}

/** One attempt to deliver an event to an endpoint. */
export interface WebhookDelivery {
  id: number;
  [field: string]: unknown;
}

/** A verified webhook: what we sent. */
export interface WebhookEvent<Data = Record<string, unknown>> {
  type: WebhookEventType | (string & {});
  timestamp: string;
  data: Data;
}
