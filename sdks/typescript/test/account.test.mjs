import assert from "node:assert/strict";
import { test } from "node:test";

import { ValidationError } from "../dist/index.js";
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

test("plans, and auto-refill read and set", async () => {
  assert.ok(Array.isArray(await wan.credits.plans()));
  assert.equal((await wan.credits.autoRefill()).enabled, false);
  const [pack] = await wan.credits.packs();
  const settings = { enabled: false, threshold: 20, pack_id: pack.id, monthly_max: 3 };

  const saved = await wan.credits.setAutoRefill(settings);

  assert.deepEqual(
    [saved.enabled, saved.threshold, saved.pack_id, saved.monthly_max, saved.card],
    [false, 20, pack.id, 3, null],
  );
  await assert.rejects(
    wan.credits.setAutoRefill({ ...settings, enabled: true }),
    (error) => error instanceof ValidationError && /Save a card first/.test(error.message),
  );
  assert.deepEqual(await wan.credits.autoRefill(), saved);
});
