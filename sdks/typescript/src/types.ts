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
};

export type GenerationListParams = NonNullable<operations["generations_list"]["parameters"]["query"]>;
export type LedgerListParams = NonNullable<operations["credits_ledger"]["parameters"]["query"]>;

/** The events an endpoint can subscribe to (and `webhook.test`, sent when asked). */
export type WebhookEventType = Schemas["EventsEnum"] | "webhook.test";

/** A webhook endpoint of the account. */
export type WebhookEndpoint = Schemas["WebhookEndpoint"];
/** The answer to create and rotateSecret: the endpoint and its `whsec_` secret, shown once. */
export type WebhookEndpointWithSecret = Schemas["WebhookEndpointWithSecret"];
export type WebhookEndpointCreateParams = Schemas["WebhookEndpointCreateRequest"];
export type WebhookEndpointUpdateParams = Schemas["PatchedWebhookEndpointUpdateRequest"];
/** One event sent (or being sent) to an endpoint, with every attempt. */
export type WebhookDelivery = Schemas["Delivery"];
export type WebhookAttempt = Schemas["Attempt"];

/** A verified webhook: what we sent. */
export interface WebhookEvent<Data = Record<string, unknown>> {
  type: WebhookEventType | (string & {});
  timestamp: string;
  data: Data;
}
