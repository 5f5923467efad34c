import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { test } from "node:test";

import { client, clipPath } from "./support.mjs";

const wan = client("takes");
const WAIT = { timeout: 60, interval: 0.2 };

test("an edit of a finished video is a take of it", async () => {
  const edit = {
    model_key: "edit-2.7",
    operation: "edit",
    resolution: "720p",
    prompt: "Make it a snowy winter evening",
  };
  // The simulator's text-to-video clips are shorter than an edit's 2 s minimum, and an edit
  // lasts as long as its source: a take of an uploaded clip is the finished source.
  const source = await wan.generations.createAndWait({ ...edit, video: clipPath }, WAIT);
  assert.equal(source.status, "succeeded");
  assert.equal(source.parent, null);

  const take = await wan.generations.createAndWait({ ...edit, source_generation: source.id }, WAIT);
  assert.equal(take.status, "succeeded", take.error_message);
  assert.deepEqual([take.operation, take.parent, take.kind], ["edit", source.id, "v2v"]);
  assert.equal(take.has_source_video, true);
  assert.deepEqual((await wan.generations.get(source.id)).takes, [take.id]);
});

test("a region drawn as a box goes with an uploaded clip, as multipart", async () => {
  const clip = new Blob([await readFile(clipPath)], { type: "video/mp4" });
  const region = await wan.generations.createAndWait(
    {
      model_key: "vace-14B",
      operation: "region",
      resolution: "480p",
      prompt: "A red balloon floats in the sky",
      video: clip,
      mask_box: { x: 0.25, y: 0.5, width: 0.5, height: 0.25 },
    },
    WAIT,
  );
  assert.equal(region.status, "succeeded", region.error_message);
  assert.deepEqual([region.operation, region.parent], ["region", null]);
});
