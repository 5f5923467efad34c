/** `client.credits`, `client.models` and `client.webhookEndpoints`. */

import { Paginator } from "./pagination.js";
import type { Transport } from "./transport.js";
import type {
  AutoRefill,
  AutoRefillParams,
  Balance,
  CatalogModel,
  Checkout,
  CreditPack,
  LedgerEntry,
  LedgerListParams,
  Plan,
  Subscription,
  WebhookDelivery,
  WebhookEndpoint,
  WebhookEndpointCreateParams,
  WebhookEndpointUpdateParams,
  WebhookEndpointWithSecret,
} from "./types.js";

export class Credits {
  readonly #transport: Transport;

  constructor(transport: Transport) {
    this.#transport = transport;
  }

  /** The balance now. */
  get(): Promise<Balance> {
    return this.#transport.json("GET", "/api/v1/credits/");
  }

  /** Every change to the balance, newest first, across every page. */
  ledger(params: LedgerListParams = {}): Paginator<LedgerEntry> {
    return new Paginator(this.#transport, "/api/v1/credits/ledger/", params);
  }

  /** The packs on sale. */
  packs(): Promise<CreditPack[]> {
    return this.#transport.json("GET", "/api/v1/credits/packs/");
  }

  /** Starts buying a pack: pay at the answer's `checkout_url` (needs the `billing` scope). */
  checkout(packId: number): Promise<Checkout> {
    return this.#transport.json("POST", "/api/v1/credits/checkout/", {
      json: { pack_id: packId },
    });
  }

  /** The monthly plans on sale. */
  plans(): Promise<Plan[]> {
    return this.#transport.json("GET", "/api/v1/credits/plans/");
  }

  /** Where to pay for a plan, or (with a plan already) to change it (needs `billing`). */
  subscribe(planId: number): Promise<Subscription> {
    return this.#transport.json("POST", "/api/v1/credits/subscribe/", {
      json: { plan_id: planId },
    });
  }

  /** The auto-refill settings, and the refills this month (needs `billing`). */
  autoRefill(): Promise<AutoRefill> {
    return this.#transport.json("GET", "/api/v1/credits/auto-refill/");
  }

  /**
   * Buys the pack `pack_id` with the card saved in Billing whenever the balance falls below
   * `threshold`, at most `monthly_max` times a calendar month (turning it on needs a saved card).
   */
  setAutoRefill(settings: AutoRefillParams): Promise<AutoRefill> {
    return this.#transport.json("PUT", "/api/v1/credits/auto-refill/", { json: settings });
  }
}

export class Models {
  readonly #transport: Transport;

  constructor(transport: Transport) {
    this.#transport = transport;
  }

  /** The catalog: models, resolutions, aspect ratios, controls and credits. */
  list(): Promise<CatalogModel[]> {
    return this.#transport.json("GET", "/api/v1/models/");
  }
}

const ENDPOINTS = "/api/v1/webhooks/";

/** The account's webhook endpoints and their deliveries. */
export class WebhookEndpoints {
  readonly #transport: Transport;

  constructor(transport: Transport) {
    this.#transport = transport;
  }

  list(): Paginator<WebhookEndpoint> {
    return new Paginator(this.#transport, ENDPOINTS);
  }

  /** A new endpoint; the answer's `secret` (whsec_...) is shown this once. */
  create(params: WebhookEndpointCreateParams): Promise<WebhookEndpointWithSecret> {
    return this.#transport.json("POST", ENDPOINTS, { json: params });
  }

  get(id: number): Promise<WebhookEndpoint> {
    return this.#transport.json("GET", `${ENDPOINTS}${id}/`);
  }

  update(id: number, params: WebhookEndpointUpdateParams): Promise<WebhookEndpoint> {
    return this.#transport.json("PATCH", `${ENDPOINTS}${id}/`, { json: params });
  }

  async delete(id: number): Promise<void> {
    await this.#transport.send("DELETE", `${ENDPOINTS}${id}/`);
  }

  /** A new secret (shown this once); the old one keeps signing beside it for 24 hours. */
  rotateSecret(id: number): Promise<WebhookEndpointWithSecret> {
    return this.#transport.json("POST", `${ENDPOINTS}${id}/rotate-secret/`);
  }

  /** Sends the endpoint a test event (queued: it goes out in a moment). */
  test(id: number): Promise<WebhookDelivery> {
    return this.#transport.json("POST", `${ENDPOINTS}${id}/test/`);
  }

  deliveries(id: number): Paginator<WebhookDelivery> {
    return new Paginator(this.#transport, `${ENDPOINTS}${id}/deliveries/`);
  }

  /** Delivers a logged event again (queued), with the same webhook-id. */
  resend(id: number, deliveryId: number): Promise<WebhookDelivery> {
    return this.#transport.json("POST", `${ENDPOINTS}${id}/deliveries/${deliveryId}/resend/`);
  }

  /** The secret that signs the per-generation `webhook` URLs of create. */
  signingSecret(): Promise<{ secret: string }> {
    return this.#transport.json("GET", `${ENDPOINTS}signing-secret/`);
  }
}
