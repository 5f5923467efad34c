/** `client.generations`: submit, follow, list and download generations. */

import { APITimeoutError } from "./errors.js";
import { isFileInput, toUpload, writePath } from "./files.js";
import { Paginator } from "./pagination.js";
import { idempotencyKey, type Transport } from "./transport.js";
import type {
  Generation,
  GenerationCreateParams,
  GenerationFileField,
  GenerationListParams,
  GenerationStatus,
} from "./types.js";

const TERMINAL: ReadonlySet<GenerationStatus> = new Set(["succeeded", "failed", "canceled"]);
const FILE_FIELDS: ReadonlySet<string> = new Set<GenerationFileField>([
  "image",
  "end_image",
  "audio",
  "video",
  "mask",
]);

export interface SubmitOptions {
  /** Your own key; by default one is made per call and reused by its retries. */
  idempotencyKey?: string;
}

export interface WaitOptions {
  /** Seconds before giving up with APITimeoutError (default 300). */
  timeout?: number;
  /** Seconds between the first polls (default 1); it grows to 5. */
  interval?: number;
}

export class Generations {
  readonly #transport: Transport;

  constructor(transport: Transport) {
    this.#transport = transport;
  }

  /** Submits a generation (charged now; retries never charge twice). */
  async create(params: GenerationCreateParams, options: SubmitOptions = {}): Promise<Generation> {
    const key = options.idempotencyKey ?? idempotencyKey();
    const hasFile = Object.entries(params).some(
      ([name, value]) => isFileInput(value) || (FILE_FIELDS.has(name) && typeof value === "string"),
    );
    if (!hasFile) {
      return this.#transport.json("POST", "/api/v1/generations/", {
        json: params,
        idempotencyKey: key,
      });
    }
    return this.#transport.json("POST", "/api/v1/generations/", {
      form: await multipart(params),
      idempotencyKey: key,
    });
  }

  get(id: number): Promise<Generation> {
    return this.#transport.json("GET", `/api/v1/generations/${id}/`);
  }

  /** Newest first, across every page: `for await (const g of client.generations.list())`. */
  list(params: GenerationListParams = {}): Paginator<Generation> {
    return new Paginator(this.#transport, "/api/v1/generations/", params);
  }

  /** Polls until the generation has ended (succeeded, failed or canceled) and returns it. */
  async wait(id: number, options: WaitOptions = {}): Promise<Generation> {
    const timeout = options.timeout ?? 300;
    let interval = options.interval ?? 1;
    const deadline = Date.now() + timeout * 1000;
    for (;;) {
      const generation = await this.get(id);
      if (TERMINAL.has(generation.status)) return generation;
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new APITimeoutError(
          `Generation ${id} is still ${generation.status} after ${timeout} s.`,
          { code: "wait_timeout" },
        );
      }
      await new Promise((resolve) => setTimeout(resolve, Math.min(interval * 1000, left)));
      interval = Math.min(5, interval * 1.5);
    }
  }

  /** create, then wait. */
  async createAndWait(
    params: GenerationCreateParams,
    options: SubmitOptions & WaitOptions = {},
  ): Promise<Generation> {
    const generation = await this.create(params, options);
    return this.wait(generation.id, options);
  }

  /** Stops a generation in progress; its credits are refunded. */
  cancel(id: number): Promise<Generation> {
    return this.#transport.json("POST", `/api/v1/generations/${id}/cancel/`);
  }

  /** A new generation with the same parameters (charged again, once however often retried). */
  retry(id: number, options: SubmitOptions = {}): Promise<Generation> {
    return this.#transport.json("POST", `/api/v1/generations/${id}/retry/`, {
      idempotencyKey: options.idempotencyKey ?? idempotencyKey(),
    });
  }

  /** Deletes a generation that has ended, and its files. */
  async delete(id: number): Promise<void> {
    await this.#transport.send("DELETE", `/api/v1/generations/${id}/`);
  }

  star(id: number): Promise<Generation> {
    return this.#transport.json("POST", `/api/v1/generations/${id}/star/`);
  }

  unstar(id: number): Promise<Generation> {
    return this.#transport.json("DELETE", `/api/v1/generations/${id}/star/`);
  }

  /** The MP4 as a Blob; given a path (Node and Deno), also writes it there. */
  async download(id: number, path?: string): Promise<Blob> {
    const response = await this.#transport.send("GET", `/api/v1/generations/${id}/video/`);
    const video = await response.blob();
    if (path !== undefined) await writePath(path, video);
    return video;
  }
}

/** The parameters as multipart/form-data: files as parts, lists as repeated fields. */
async function multipart(params: GenerationCreateParams): Promise<FormData> {
  const form = new FormData();
  for (const [name, value] of Object.entries(params)) {
    if (value === undefined || value === null) continue;
    if (isFileInput(value) || (FILE_FIELDS.has(name) && typeof value === "string")) {
      const [blob, filename] = await toUpload(value, name);
      form.append(name, blob, filename);
    } else if (Array.isArray(value)) {
      for (const item of value) form.append(name, String(item));
    } else if (typeof value === "object") {
      form.append(name, JSON.stringify(value));
    } else {
      form.append(name, String(value));
    }
  }
  return form;
}
