// webhooks.verify against signatures made here with node:crypto, as the site makes them.
import assert from "node:assert/strict";
import { createHmac, randomBytes } from "node:crypto";
import { test } from "node:test";

import { webhooks, WebhookVerificationError } from "../dist/index.js";

const SECRET = "whsec_" + randomBytes(24).toString("base64");
const OLD_SECRET = "whsec_" + randomBytes(24).toString("base64");
const BODY = JSON.stringify({
  type: "generation.succeeded",
  timestamp: "2026-12-05T18:00:00.123456Z",
  data: { id: 42, status: "succeeded", prompt: "Un bateau en papier, 🌧" },
});

function sign(secret, id, timestamp, body) {
  const key = Buffer.from(secret.slice("whsec_".length), "base64");
  return createHmac("sha256", key).update(`${id}.${timestamp}.${body}`).digest("base64");
}

function headers({ secrets = [SECRET], timestamp = Math.floor(Date.now() / 1000), body = BODY } = {}) {
  const id = "msg_2Kx9f3";
  return {
    "webhook-id": id,
    "webhook-timestamp": String(timestamp),
    "webhook-signature": secrets.map((secret) => `v1,${sign(secret, id, timestamp, body)}`).join(" "),
  };
}

test("a signed webhook is accepted and its event returned, from a record or Headers", async () => {
  const event = await webhooks.verify(headers(), BODY, SECRET);
  assert.equal(event.type, "generation.succeeded");
  assert.equal(event.data.id, 42);

  const upper = Object.fromEntries(Object.entries(headers()).map(([k, v]) => [k.toUpperCase(), v]));
  assert.equal((await webhooks.verify(upper, BODY, SECRET)).data.id, 42);
  assert.equal((await webhooks.verify(new Headers(headers()), BODY, SECRET)).data.id, 42);
  const bytes = new TextEncoder().encode(BODY);
  assert.equal((await webhooks.verify(headers(), bytes, SECRET)).data.id, 42);
  assert.equal((await webhooks.verify(headers(), bytes.buffer, SECRET)).data.id, 42);
});

test("during a rotation either secret's signature is enough", async () => {
  const both = headers({ secrets: [SECRET, OLD_SECRET] });
  assert.equal((await webhooks.verify(both, BODY, OLD_SECRET)).data.id, 42);
  assert.equal((await webhooks.verify(both, BODY, SECRET)).data.id, 42);
});

test("a tampered body, another secret or a stale timestamp is refused", async () => {
  const tampered = BODY.replace('"id":42', '"id":43');
  await assert.rejects(webhooks.verify(headers(), tampered, SECRET), WebhookVerificationError);
  await assert.rejects(webhooks.verify(headers(), BODY, OLD_SECRET), WebhookVerificationError);

  const old = Math.floor(Date.now() / 1000) - 301;
  await assert.rejects(webhooks.verify(headers({ timestamp: old }), BODY, SECRET), WebhookVerificationError);
  const future = Math.floor(Date.now() / 1000) + 301;
  await assert.rejects(webhooks.verify(headers({ timestamp: future }), BODY, SECRET), WebhookVerificationError);
  const accepted = await webhooks.verify(headers({ timestamp: old }), BODY, SECRET, { tolerance: 600 });
  assert.equal(accepted.data.id, 42);
});

test("missing headers or signatures of another scheme are refused", async () => {
  const { "webhook-signature": _, ...unsigned } = headers();
  await assert.rejects(webhooks.verify(unsigned, BODY, SECRET), WebhookVerificationError);
  const v2 = { ...headers(), "webhook-signature": headers()["webhook-signature"].replace("v1,", "v2,") };
  await assert.rejects(webhooks.verify(v2, BODY, SECRET), WebhookVerificationError);
  const garbage = { ...headers(), "webhook-signature": "v1,@@not-base64@@" };
  await assert.rejects(webhooks.verify(garbage, BODY, SECRET), WebhookVerificationError);
  const words = { ...headers(), "webhook-timestamp": "yesterday" };
  await assert.rejects(webhooks.verify(words, BODY, SECRET), WebhookVerificationError);
});
