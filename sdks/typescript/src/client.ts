/** The client: `new WanPWA({ apiKey, baseUrl })`. */

import { Credits, Models, WebhookEndpoints } from "./account.js";
import { Generations } from "./generations.js";
import { type ClientOptions, Transport } from "./transport.js";

export class WanPWA {
  readonly generations: Generations;
  readonly credits: Credits;
  readonly models: Models;
  readonly webhookEndpoints: WebhookEndpoints;
  readonly baseUrl: string;

  constructor(options: ClientOptions = {}) {
    const transport = new Transport(options);
    this.baseUrl = transport.baseUrl;
    this.generations = new Generations(transport);
    this.credits = new Credits(transport);
    this.models = new Models(transport);
    this.webhookEndpoints = new WebhookEndpoints(transport);
  }
}
