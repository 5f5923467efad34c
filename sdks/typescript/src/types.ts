/** The API's types, named: taken from the generated schema.ts (never edit that file by hand). */

import type { components, operations } from "./schema.js";
import type { FileInput } from "./files.js";

type Schemas = components["schemas"];

export type Generation = Schemas["Generation"];
export type GenerationStatus = Schemas["GenerationStatusEnum"];
/** What a generation does: `create` a video, or a take of a source video (`edit`, ...). */
export type Operation = Schemas["OperationEnum"];
export type Balance = Schemas["Balance"];
export type Bucket = Schemas["Bucket"];
export type LedgerEntry = Schemas["LedgerEntry"];
export type CreditPack = Schemas["CreditPack"];
export type Checkout = Schemas["Checkout"];
export type Plan = Schemas["Plan"];
/** Your monthly plan (`Balance.subscription`): its state and when its period ends. */
export type PlanSubscription = Schemas["PlanSubscription"];
/** Where to send the user: Stripe Checkout, or the Customer Portal (`to_portal`). */
export type Subscription = Schemas["Subscribe"];
export type AutoRefill = Schemas["AutoRefill"];
export type AutoRefillParams = Schemas["AutoRefillRequest"];
export type CatalogModel = Schemas["CatalogModel"];
/** What a model accepts as a source video. */
export type SourceLimits = Schemas["SourceLimits"];
/** What a model accepts as an audio track. */
export type AudioLimits = Schemas["AudioLimits"];
/** A region to change: a box on the source's first frame, in fractions of the frame. */
export type MaskBox = Schemas["MaskBoxRequest"];
export type ApiError = Schemas["ErrorObject"];

/** The file fields of `generations.create` (each model's `files` says which it takes). */
export type GenerationFileField = "image" | "end_image" | "audio" | "video" | "mask";

/**
 * What `generations.create` takes: the API's fields, with files as FileInput. A take of a video
 * (`operation` other than "create") starts from `source_generation`, the id of one of your
 * finished videos, or an uploaded `video`.
 */
export type GenerationCreateParams = Omit<Schemas["GenerationCreateRequest"], GenerationFileField> & {
  /** Image-to-video: the first frame. */
  image?: FileInput | null;
  /** First and last frame: the image the video ends on. */
  end_image?: FileInput | null;
  /** An audio track, for the models that take one. */
  audio?: FileInput | null;
  /** A take's source, uploaded: an MP4, MOV or WebM within the model's `source_limits`. */
  video?: FileInput | null;
  /** Change a region: a mask video, white where the model regenerates. */
  mask?: FileInput | null;
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
