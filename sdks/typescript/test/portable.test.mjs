// The SDK as a browser, a worker or Deno meets it: in a Node process whose loader refuses every
// Node module (`node:` or bare built-in), portable_check.mjs passes. (Chromium runs the same
// check: tests/sdk_typescript/ in the repository.)
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
import * as sdk from "../dist/index.js";
import { check } from "./portable_check.mjs";
console.log(await check(sdk));
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
