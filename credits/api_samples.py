"""The SDK calls of the credit endpoints, by operationId, for the API docs (registered in
CreditsConfig.ready(); see wan_pwa/api/code_samples.py). Buying credits has none: the SDKs
leave it to the web page. Auto-refill's settings have theirs (its card is saved on the page)."""

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
    "credits_auto_refill": Sample(
        python="refill = client.credits.auto_refill()\nprint(refill.enabled, refill.card)\n",
        typescript="const refill = await client.credits.autoRefill();\n",
    ),
    "credits_auto_refill_update": Sample(
        python=(
            "refill = client.credits.set_auto_refill(\n"
            "    enabled=True, threshold=20, pack_id=1, monthly_max=3\n"
            ")\n"
        ),
        typescript=(
            "const refill = await client.credits.setAutoRefill({\n"
            "  enabled: true,\n"
            "  threshold: 20,\n"
            "  pack_id: 1,\n"
            "  monthly_max: 3,\n"
            "});\n"
        ),
        curl_options=(
            '-H "Content-Type: application/json" \\\n'
            '  -d \'{"enabled": true, "threshold": 20, "pack_id": 1, "monthly_max": 3}\''
        ),
    ),
}
