// What the SDK must do with nothing but the platform (fetch, FormData, Blob, Web Crypto): run
// by portable.test.mjs in a Node that refuses Node's modules, and in Chromium by
// tests/sdk_typescript/. Throws on the first thing wrong; returns "portable".

export async function check({ WanPWA, webhooks, WebhookVerificationError }) {
  const seen = [];
  const fetch = async (url, init) => {
    seen.push({ key: init.headers["Idempotency-Key"], image: init.body.get("image") });
    if (seen.length === 1) return new Response("busy", { status: 503, headers: { "Retry-After": "0" } });
    return Response.json({ id: 7, status: "queued" }, { status: 201 });
  };
  const client = new WanPWA({ apiKey: "wan_test", baseUrl: "https://wan.example", fetch });
  const prompt = "The fox turns its head";
  const image = new Blob([new Uint8Array([137, 80, 78, 71])], { type: "image/png" });
  const created = await client.generations.create({ model_key: "i2v-14B", prompt, image });
  if (created.id !== 7 || seen.length !== 2) throw new Error("the 503 was not retried once");
  if (!/^sdk-/.test(seen[0].key) || seen[0].key !== seen[1].key) throw new Error("idempotency key");
  if (!(seen[1].image instanceof Blob) || seen[1].image.size !== 4) throw new Error("the upload");
  await client.generations.create({ model_key: "i2v-14B", prompt, image: "fox.jpg" }).then(
    () => { throw new Error("a path was read without Node"); },
    (error) => { if (!/only be read in Node or Deno/.test(error.message)) throw error; },
  );

  const raw = crypto.getRandomValues(new Uint8Array(24));
  const secret = "whsec_" + btoa(String.fromCharCode(...raw));
  const key = await crypto.subtle.importKey("raw", raw, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const body = JSON.stringify({ type: "credits.low", timestamp: "2026-12-05T18:00:00Z", data: { balance: 3 } });
  const timestamp = String(Math.floor(Date.now() / 1000));
  const signed = new TextEncoder().encode(`msg_1.${timestamp}.${body}`);
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, signed));
  const headers = new Headers({
    "webhook-id": "msg_1",
    "webhook-timestamp": timestamp,
    "webhook-signature": `v1,${btoa(String.fromCharCode(...mac))}`,
  });
  if ((await webhooks.verify(headers, body, secret)).data.balance !== 3) throw new Error("verify");
  await webhooks.verify(headers, body.replace("3", "4"), secret).then(
    () => { throw new Error("a tampered body passed"); },
    (error) => { if (!(error instanceof WebhookVerificationError)) throw error; },
  );
  return "portable";
}
