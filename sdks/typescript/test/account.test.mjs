import assert from "node:assert/strict";
import { test } from "node:test";

import { client } from "./support.mjs";

const wan = client("account");

test("the models, the balance, its ledger and the packs", async () => {
  const models = await wan.models.list();
  const small = models.find((model) => model.key === "t2v-1.3B");
  assert.ok(small, "the catalog lists t2v-1.3B");
  assert.deepEqual(small.resolutions, [{ resolution: "480p", credits: 5 }]);

  const balance = await wan.credits.get();
  assert.equal(balance.balance, 100);
  assert.equal(balance.low, false);

  const ledger = await wan.credits.ledger().toArray();
  assert.equal(ledger.length, 1);
  assert.equal(ledger[0].type, "bonus");
  assert.equal(ledger[0].balance_after, 100);

  assert.ok(Array.isArray(await wan.credits.packs()));
});
