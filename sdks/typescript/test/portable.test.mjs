// The SDK as a browser, a worker or Deno meets it: in a Node process that refuses every Node
// module (`node:` or bare built-in), uploads, retries and webhooks.verify still work, with
// only the platform's fetch, FormData, Blob and Web Crypto. (A path as a file needs Node.)
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { builtinModules } from "node:module";
import { test } from "node:test";

const REFUSE_NODE_MODULES = `
const builtins = new Set(${JSON.stringify(builtinModules)});
export async function resolve(specifier, context, next) {
  if (specifier.startsWith("node:") || builtins.has(specifier)) {
    throw new Error("the SDK loaded the Node module " + specifier);
  }
  return next(specifier, context);
}`;

const SCRIPT = `
import { WanPWA, webhooks, WebhookVerificationError } from "../dist/index.js";

const seen = [];
const fetch = async (url, init) => {
  seen.push({ key: init.headers["Idempotency-Key"], image: init.body.get("image") });
  if (seen.length === 1) return new Response("busy", { status: 503, headers: { "Retry-After": "0" } });
  return Response.json({ id: 7, status: "queued" }, { status: 201 });
};
const client = new WanPWA({ apiKey: "wan_test", baseUrl: "https://wan.example", fetch });
const image = new Blob([new Uint8Array([137, 80, 78, 71])], { type: "image/png" });
const created = await client.generations.create({ model_key: "i2v-14B", prompt: "The fox turns its head", image });
if (created.id !== 7 || seen.length !== 2 || seen[0].key !== seen[1].key) throw new Error("retry");
if (!(seen[1].image instanceof Blob) || seen[1].image.size !== 4) throw new Error("upload");

const raw = crypto.getRandomValues(new Uint8Array(24));
const secret = "whsec_" + btoa(String.fromCharCode(...raw));
const key = await crypto.subtle.importKey("raw", raw, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
const body = JSON.stringify({ type: "credits.low", timestamp: "2026-12-05T18:00:00Z", data: { balance: 3 } });
const timestamp = String(Math.floor(Date.now() / 1000));
const mac = await crypto.subtle.sign("HMAC", key, new TextEncoder().encode("msg_1." + timestamp + "." + body));
const headers = new Headers({
  "webhook-id": "msg_1",
  "webhook-timestamp": timestamp,
  "webhook-signature": "v1," + btoa(String.fromCharCode(...new Uint8Array(mac))),
});
if ((await webhooks.verify(headers, body, secret)).data.balance !== 3) throw new Error("verify");
await webhooks.verify(headers, body.replace("3", "4"), secret).then(
  () => { throw new Error("a tampered body passed"); },
  (error) => { if (!(error instanceof WebhookVerificationError)) throw error; },
);
await client.generations.create({ model_key: "i2v-14B", prompt: "The fox turns its head", image: "fox.jpg" }).then(
  () => { throw new Error("a path was read without Node"); },
  (error) => { if (!/only be read in Node or Deno/.test(error.message)) throw error; },
);
console.log("portable");
`;

test("without any Node module, the SDK uploads, retries and verifies webhooks", () => {
  const loader = `data:text/javascript,${encodeURIComponent(REFUSE_NODE_MODULES)}`;
  const register = `import { register } from "node:module"; register(${JSON.stringify(loader)});`;
  const run = spawnSync(
    process.execPath,
    ["--import", `data:text/javascript,${encodeURIComponent(register)}`, "--input-type=module", "-e", SCRIPT],
    { cwd: new URL(".", import.meta.url), encoding: "utf8" },
  );
  assert.equal(run.status, 0, run.stderr);
  assert.equal(run.stdout.trim(), "portable");
});
