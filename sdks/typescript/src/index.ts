export { WanPWA } from "./client.js";
export type { ClientOptions, Fetch } from "./transport.js";
export type { SubmitOptions, WaitOptions } from "./generations.js";
export type { FileInput } from "./files.js";
export { Paginator } from "./pagination.js";
export * from "./errors.js";
export type * from "./types.js";
export type { components, operations, paths } from "./schema.js";
export * as webhooks from "./webhooks.js";
