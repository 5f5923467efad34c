// A key with the generations:read scope only (tests/sdk_typescript gives it).
import assert from "node:assert/strict";
import { test } from "node:test";

import { PermissionDeniedError } from "../dist/index.js";
import { client, TEXT_TO_VIDEO } from "./support.mjs";

const readOnly = client("read_only");

async function refusal(promise) {
  return promise.then(
    () => assert.fail("a key without the scope is refused"),
    (error) => error,
  );
}

test("a key outside its scope is refused with the scope it needs, and nothing is made", async () => {
  const submit = await refusal(readOnly.generations.create(TEXT_TO_VIDEO));
  assert.ok(submit instanceof PermissionDeniedError);
  assert.equal(submit.status, 403);
  assert.equal(submit.code, "insufficient_scope");
  assert.equal(submit.body.required_scope, "generations:write");
  assert.match(submit.docUrl, /#insufficient_scope$/);

  const balance = await refusal(readOnly.credits.get());
  assert.ok(balance instanceof PermissionDeniedError);
  assert.equal(balance.body.required_scope, "credits:read");

  assert.deepEqual(await readOnly.generations.list().toArray(), [], "reading is allowed");
});
