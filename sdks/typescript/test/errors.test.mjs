import assert from "node:assert/strict";
import { test } from "node:test";

import {
  AuthenticationError,
  ConflictError,
  InsufficientCreditsError,
  NotFoundError,
  ValidationError,
  WanPWA,
  WanPWAError,
} from "../dist/index.js";
import { baseUrl, client, TEXT_TO_VIDEO } from "./support.mjs";

const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

async function failure(promise) {
  return promise.then(
    () => assert.fail("expected an error"),
    (error) => error,
  );
}

test("a wrong key is an AuthenticationError", async () => {
  const wan = new WanPWA({ apiKey: "wan_not-a-key", baseUrl });
  const error = await failure(wan.credits.get());
  assert.ok(error instanceof AuthenticationError && error instanceof WanPWAError);
  assert.equal(error.status, 401);
  assert.ok(error.code);
  assert.match(error.requestId, REQUEST_ID);
});

test("invalid input is a ValidationError naming the field; nothing is charged", async () => {
  const wan = client("errors");
  const error = await failure(wan.generations.create({ ...TEXT_TO_VIDEO, prompt: "short" }));
  assert.ok(error instanceof ValidationError);
  assert.equal(error.status, 400);
  assert.ok(error.fields.prompt.length > 0);
  assert.equal((await wan.credits.get()).balance, 100);
});

test("another user's or no generation is a NotFoundError; too early a download a ConflictError", async () => {
  const wan = client("errors");
  const missing = await failure(wan.generations.get(2147483000));
  assert.ok(missing instanceof NotFoundError);
  assert.equal(missing.status, 404);

  const queued = await wan.generations.create(TEXT_TO_VIDEO);
  const early = await failure(wan.generations.download(queued.id));
  assert.ok(early instanceof ConflictError);
  assert.equal(early.status, 409);
  assert.match(early.requestId, REQUEST_ID);
  assert.equal((await wan.generations.cancel(queued.id)).status, "canceled");
});

test("too few credits is an InsufficientCreditsError with what is needed", async () => {
  const wan = client("poor");
  const error = await failure(wan.generations.create(TEXT_TO_VIDEO));
  assert.ok(error instanceof InsufficientCreditsError);
  assert.equal(error.status, 402);
  assert.equal(error.code, "insufficient_credits");
  assert.equal(error.body.needed, 5);
  assert.equal(error.body.available, 0);
});
