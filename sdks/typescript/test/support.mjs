// What the tests share: the live site's address and keys (given by tests/sdk_typescript/ in the
// repository, which starts the site), clients, a fetch that records, and a proxy that fails.
import http from "node:http";

import { WanPWA } from "../dist/index.js";

export const baseUrl = process.env.WANPWA_BASE_URL;
const keys = JSON.parse(process.env.WANPWA_TEST_KEYS ?? "{}");
export const imagePath = process.env.WANPWA_TEST_IMAGE;
export const clipPath = process.env.WANPWA_TEST_CLIP;

export const PROMPT = "A paper boat drifting down a rainy street";
export const TEXT_TO_VIDEO = { model_key: "t2v-1.3B", resolution: "480p", prompt: PROMPT };

/** The key of the test user named `name`: each test file has a user of its own. */
export function key(name) {
  const value = keys[name];
  if (!value) throw new Error(`No key named ${name} in WANPWA_TEST_KEYS: run through pytest.`);
  return value;
}

export function client(name, options = {}) {
  return new WanPWA({ apiKey: key(name), baseUrl, ...options });
}

/** A fetch that remembers each attempt: its Idempotency-Key, answer status and time. */
export function recordingFetch() {
  const attempts = [];
  const recording = async (input, init) => {
    const attempt = { key: init.headers["Idempotency-Key"], at: Date.now(), status: null };
    attempts.push(attempt);
    const response = await fetch(input, init);
    attempt.status = response.status;
    return response;
  };
  return { fetch: recording, attempts };
}

/**
 * A proxy on 127.0.0.1 in front of the site. Each request takes the next step of `script`
 * (then "forward" once it is used up):
 * - "fail": answer 503 without passing the request on;
 * - "lose": pass it on, then answer 502 instead of the site's answer (as when a gateway drops
 *   it), so the site did the work and the client never heard.
 */
export async function startProxy(script) {
  const steps = [...script];
  const seen = [];
  const target = new URL(baseUrl);
  const server = http.createServer(async (request, response) => {
    const chunks = [];
    for await (const chunk of request) chunks.push(chunk);
    const step = steps.shift() ?? "forward";
    seen.push({ step, key: request.headers["idempotency-key"], method: request.method });
    if (step === "fail") {
      response.writeHead(503, { "Content-Type": "text/plain" }).end("Service Unavailable");
      return;
    }
    const answer = await fetch(new URL(request.url, target), {
      method: request.method,
      headers: withoutHopHeaders(Object.entries(request.headers)),
      body: chunks.length ? Buffer.concat(chunks) : undefined,
    });
    const body = Buffer.from(await answer.arrayBuffer());
    if (step === "lose") {
      response.writeHead(502, { "Content-Type": "text/plain" }).end("Bad Gateway");
      return;
    }
    response.writeHead(answer.status, withoutHopHeaders([...answer.headers])).end(body);
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    seen,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

// What a proxy sets itself rather than passing on (fetch has already decoded the body).
const HOP_HEADERS = new Set(["host", "connection", "content-length", "transfer-encoding", "content-encoding", "keep-alive"]);

function withoutHopHeaders(entries) {
  return Object.fromEntries(entries.filter(([name]) => !HOP_HEADERS.has(name.toLowerCase())));
}

/** The ledger's deductions for one generation. */
export async function deductionsFor(wan, generationId) {
  const entries = await wan.credits.ledger().toArray();
  return entries.filter((entry) => entry.generation === generationId && entry.type === "deduction");
}

/** A webhook receiver on 127.0.0.1 that keeps every request (raw body, headers, arrival). */
export async function startReceiver() {
  const received = [];
  const server = http.createServer(async (request, response) => {
    const chunks = [];
    for await (const chunk of request) chunks.push(chunk);
    received.push({ path: request.url, headers: request.headers, body: Buffer.concat(chunks), at: Date.now() });
    response.writeHead(204).end();
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    received,
    /** The requests once `count` of them match `predicate`; fails after `timeout` seconds. */
    async waitFor(predicate, { count = 1, timeout = 30 } = {}) {
      const deadline = Date.now() + timeout * 1000;
      for (;;) {
        const matching = received.filter(predicate);
        if (matching.length >= count) return matching;
        if (Date.now() > deadline) throw new Error(`no ${count} matching webhooks in ${timeout} s: ${received.length} came`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}
