import assert from "node:assert/strict";
import { readFile, mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";

import { ConflictError } from "../dist/index.js";
import { client, deductionsFor, imagePath, PROMPT, TEXT_TO_VIDEO } from "./support.mjs";

const wan = client("generations");

function isMp4(bytes) {
  return new TextDecoder().decode(bytes.subarray(4, 8)) === "ftyp";
}

test("a prompt becomes a video: create and wait, then download it", async () => {
  const created = await wan.generations.create(TEXT_TO_VIDEO);
  assert.equal(created.status, "queued");
  assert.equal(created.cost, 5);

  const done = await wan.generations.wait(created.id, { timeout: 60, interval: 0.2 });
  assert.equal(done.id, created.id);
  assert.equal(done.status, "succeeded");
  assert.equal(done.progress, 100);
  assert.ok(done.video_url);

  const video = await wan.generations.download(done.id);
  assert.ok(isMp4(new Uint8Array(await video.arrayBuffer())), "the download is an MP4");
  const path = join(await mkdtemp(join(tmpdir(), "wanpwa-")), "video.mp4");
  await wan.generations.download(done.id, path);
  assert.ok(isMp4(await readFile(path)), "the file written is the MP4");
  assert.equal((await deductionsFor(wan, done.id)).length, 1);
});

test("createAndWait, star, unstar and delete", async () => {
  const done = await wan.generations.createAndWait(
    { ...TEXT_TO_VIDEO, prompt: "A lighthouse in a storm, waves crashing" },
    { timeout: 60, interval: 0.2 },
  );
  assert.equal(done.status, "succeeded");
  assert.equal((await wan.generations.star(done.id)).starred, true);
  const starred = await wan.generations.list({ starred: true }).toArray();
  assert.deepEqual(starred.map((g) => g.id), [done.id]);
  assert.equal((await wan.generations.unstar(done.id)).starred, false);

  await assert.rejects(wan.generations.cancel(done.id), ConflictError, "a finished one");
  await wan.generations.delete(done.id);
  const ids = (await wan.generations.list().toArray()).map((g) => g.id);
  assert.ok(!ids.includes(done.id), "deleted, it is no longer listed");
});

test("an image becomes a video, given as a path, a Blob or bytes", async () => {
  const bytes = await readFile(imagePath);
  const images = [imagePath, new Blob([bytes], { type: "image/png" }), new Uint8Array(bytes)];
  for (const image of images) {
    const done = await wan.generations.createAndWait(
      { model_key: "i2v-14B", resolution: "480p", prompt: "The lighthouse slowly comes alive", image },
      { timeout: 60, interval: 0.2 },
    );
    assert.equal(done.status, "succeeded", `from ${typeof image === "string" ? "a path" : image.constructor.name}`);
    assert.equal(done.has_input_image, true);
    assert.equal(done.kind, "i2v");
  }
});

test("lists iterate over every page, newest first, and filter", async () => {
  const made = [];
  for (const word of ["one", "two", "three"]) {
    made.push(await wan.generations.create({ ...TEXT_TO_VIDEO, prompt: `${PROMPT}, take ${word}` }));
  }
  const newestFirst = made.map((g) => g.id).reverse();

  const pages = [];
  for await (const page of wan.generations.list({ page_size: 2 }).pages()) pages.push(page);
  assert.ok(pages.length >= 3, "page_size 2 over at least 5 generations is 3 pages or more");
  assert.ok(pages.every((page) => page.length <= 2));

  const ids = [];
  for await (const generation of wan.generations.list({ page_size: 2 })) ids.push(generation.id);
  assert.deepEqual(ids.slice(0, 3), newestFirst);
  assert.equal(new Set(ids).size, ids.length, "no generation twice");
  assert.deepEqual(ids, pages.flat().map((g) => g.id));

  for (const generation of made) await wan.generations.wait(generation.id, { timeout: 60, interval: 0.2 });
  const succeeded = await wan.generations.list({ status: "succeeded" }).toArray();
  assert.ok(succeeded.every((g) => g.status === "succeeded"));
  assert.ok(newestFirst.every((id) => succeeded.some((g) => g.id === id)));
  assert.deepEqual(await wan.generations.list({ status: "failed" }).toArray(), []);
});
