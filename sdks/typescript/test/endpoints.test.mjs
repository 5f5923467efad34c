// Webhook endpoints through the SDK, and the site's signed deliveries checked with
// webhooks.verify by a receiver on 127.0.0.1 (the live stack allows it for tests).
import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { webhooks, WebhookVerificationError } from "../dist/index.js";
import { client, startReceiver, TEXT_TO_VIDEO } from "./support.mjs";

const wan = client("endpoints");
let receiver;

before(async () => {
  receiver = await startReceiver();
});
after(() => receiver.close());

const at = (path) => (request) => request.path === path;

test("an endpoint receives the generation's end, signed with its secret", async () => {
  const endpoint = await wan.webhookEndpoints.create({
    url: `${receiver.url}/ends`,
    events: ["generation.succeeded", "generation.failed"],
    description: "SDK tests",
  });
  assert.match(endpoint.secret, /^whsec_/);
  assert.deepEqual((await wan.webhookEndpoints.list().toArray()).map((e) => e.id), [endpoint.id]);
  assert.equal((await wan.webhookEndpoints.get(endpoint.id)).secret, undefined, "shown once");

  const video = await wan.generations.createAndWait(TEXT_TO_VIDEO, { timeout: 60, interval: 0.2 });
  const [delivery] = await receiver.waitFor(at("/ends"));
  const event = await webhooks.verify(delivery.headers, delivery.body, endpoint.secret);
  assert.equal(event.type, "generation.succeeded");
  assert.equal(event.data.id, video.id);
  assert.equal(event.data.status, "succeeded");
  const latency = delivery.at - Date.parse(video.completed_at);
  console.log(`delivery latency from completed_at to arrival: ${latency} ms`);
  await assert.rejects(
    webhooks.verify(delivery.headers, delivery.body.toString().replace("succeeded", "failed"), endpoint.secret),
    WebhookVerificationError,
  );

  const [logged] = await wan.webhookEndpoints.deliveries(endpoint.id).toArray();
  assert.equal(logged.webhook_id, delivery.headers["webhook-id"]);
  await wan.webhookEndpoints.resend(endpoint.id, logged.id);
  const [first, again] = await receiver.waitFor(at("/ends"), { count: 2 });
  assert.equal(again.headers["webhook-id"], first.headers["webhook-id"], "a resend keeps the webhook-id");
  assert.equal((await webhooks.verify(again.headers, again.body, endpoint.secret)).data.id, video.id);
});

test("after a rotation, a test event is signed with the new and the old secret", async () => {
  const endpoint = await wan.webhookEndpoints.create({ url: `${receiver.url}/rotated`, events: ["credits.low"] });
  const rotated = await wan.webhookEndpoints.rotateSecret(endpoint.id);
  assert.notEqual(rotated.secret, endpoint.secret);
  await wan.webhookEndpoints.test(endpoint.id);
  const [delivery] = await receiver.waitFor(at("/rotated"));
  assert.equal(delivery.headers["webhook-signature"].split(" ").length, 2);
  await webhooks.verify(delivery.headers, delivery.body, rotated.secret);
  await webhooks.verify(delivery.headers, delivery.body, endpoint.secret);

  const disabled = await wan.webhookEndpoints.update(endpoint.id, { enabled: false });
  assert.equal(disabled.enabled, false);
  await wan.webhookEndpoints.delete(endpoint.id);
  const left = (await wan.webhookEndpoints.list().toArray()).map((e) => e.id);
  assert.ok(!left.includes(endpoint.id));
});

test("a per-request webhook is signed with the account's signing secret", async () => {
  const { secret } = await wan.webhookEndpoints.signingSecret();
  const video = await wan.generations.createAndWait(
    { ...TEXT_TO_VIDEO, webhook: `${receiver.url}/one`, webhook_events_filter: ["succeeded"] },
    { timeout: 60, interval: 0.2 },
  );
  const [delivery] = await receiver.waitFor(at("/one"));
  const event = await webhooks.verify(delivery.headers, delivery.body, secret);
  assert.equal(event.type, "generation.succeeded");
  assert.equal(event.data.id, video.id);
});
