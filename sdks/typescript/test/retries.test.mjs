import assert from "node:assert/strict";
import { test } from "node:test";

import { APIConnectionError, RateLimitError, WanPWA } from "../dist/index.js";
import { client, deductionsFor, key, recordingFetch, startProxy, TEXT_TO_VIDEO } from "./support.mjs";

const SDK_KEY = /^sdk-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

test("a 429 is typed, and retried after Retry-After with the same key: one charge", async () => {
  const wan = client("retries");
  const impatient = client("retries", { maxRetries: 0 });
  const before = (await wan.credits.get()).balance;
  // The site allows 3 submissions per 2 s (tests/fixtures/live_stack.py): fill the window.
  await Promise.all([1, 2, 3].map(() => impatient.generations.create(TEXT_TO_VIDEO)));

  const refused = await impatient.generations.create(TEXT_TO_VIDEO).then(
    () => assert.fail("a fourth submission within the window is refused"),
    (error) => error,
  );
  assert.ok(refused instanceof RateLimitError);
  assert.equal(refused.status, 429);
  assert.equal(refused.code, "rate_limited");
  assert.ok(refused.rateLimit.retryAfter >= 1 && refused.rateLimit.retryAfter <= 2);
  assert.equal(refused.rateLimit.limit, 3);
  assert.equal(refused.rateLimit.remaining, 0);
  assert.ok(refused.rateLimit.reset >= 1 && refused.rateLimit.reset <= 2);
  assert.match(refused.requestId, /^[A-Za-z0-9._-]{1,64}$/);

  const { fetch, attempts } = recordingFetch();
  const patient = client("retries", { fetch });
  const generation = await patient.generations.create(TEXT_TO_VIDEO);

  assert.deepEqual(attempts.map((a) => a.status), [429, 201]);
  assert.match(attempts[0].key, SDK_KEY);
  assert.equal(attempts[1].key, attempts[0].key, "the retry reuses the key");
  assert.ok(attempts[1].at - attempts[0].at >= 900, "it waited for Retry-After");
  assert.equal((await deductionsFor(wan, generation.id)).length, 1);
  assert.equal((await wan.credits.get()).balance, before - 4 * 5);
});

test("a 503 is retried; a submission whose answer was lost is replayed, not charged again", async () => {
  const proxy = await startProxy(["fail", "forward", "lose"]);
  try {
    const wan = new WanPWA({ apiKey: key("flaky"), baseUrl: proxy.url });
    const before = await wan.credits.get(); // 503, then through
    assert.equal(before.balance, 100);

    const generation = await wan.generations.create(TEXT_TO_VIDEO); // made, answer lost, replayed
    const submissions = proxy.seen.filter((request) => request.method === "POST");
    assert.deepEqual(submissions.map((s) => s.step), ["lose", "forward"]);
    assert.match(submissions[0].key, SDK_KEY);
    assert.equal(submissions[1].key, submissions[0].key);
    assert.equal((await deductionsFor(wan, generation.id)).length, 1);
    assert.equal((await wan.credits.get()).balance, 100 - 5);
    assert.deepEqual(proxy.seen.slice(0, 2).map((s) => s.step), ["fail", "forward"]);
  } finally {
    await proxy.close();
  }
});

test("no answer at all: retried, then an APIConnectionError", async () => {
  const proxy = await startProxy([]);
  await proxy.close(); // its port now refuses connections
  const { fetch, attempts } = recordingFetch();
  const wan = new WanPWA({ apiKey: key("flaky"), baseUrl: proxy.url, fetch, maxRetries: 2 });
  await assert.rejects(wan.credits.get(), APIConnectionError);
  assert.equal(attempts.length, 3);
});
