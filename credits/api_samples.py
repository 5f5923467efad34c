"""The SDK calls of the credit endpoints, by operationId, for the API docs (registered in
CreditsConfig.ready(); see wan_pwa/api/code_samples.py). Buying credits has none: the SDKs
leave it to the web page."""

from __future__ import annotations

from wan_pwa.api.code_samples import Sample

SAMPLES: dict[str, Sample] = {
    "credits_balance": Sample(
        python="balance = client.credits.get()\nprint(balance.balance)\n",
        typescript="const balance = await client.credits.get();\n",
    ),
    "credits_ledger": Sample(
        python="for entry in client.credits.ledger():\n    print(entry.amount, entry.type)\n",
        typescript=(
            "for await (const entry of client.credits.ledger()) {\n"
            "  console.log(entry.amount, entry.type);\n"
            "}\n"
        ),
    ),
}
