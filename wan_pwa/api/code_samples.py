"""Code samples for the API docs: each operation with curl, and with the Python and TypeScript
SDKs (sdks/python, sdks/typescript) where they have a call for it. The schema carries them as
`x-codeSamples` (which Redoc and other renderers show) and in each operation's description
(which the served Swagger UI shows); see wan_pwa/api/openapi.py.

Keyed by operationId; plain text, so nothing of the apps is imported. An operation without an
entry still gets its curl line, made from its method and path."""

from __future__ import annotations

import re
from dataclasses import dataclass

PYTHON_CLIENT = (
    "from wanpwa import WanPWA\n\nclient = WanPWA()  # reads WANPWA_API_KEY, WANPWA_BASE_URL\n"
)
TYPESCRIPT_CLIENT = (
    'import { WanPWA } from "wanpwa";\n\n'
    "const client = new WanPWA({\n"
    "  apiKey: process.env.WANPWA_API_KEY,\n"
    "  baseUrl: process.env.WANPWA_BASE_URL,\n"
    "});\n"
)
EXAMPLE_ID = "42"


@dataclass(frozen=True)
class Sample:
    python: str
    typescript: str
    curl_options: str = ""  # curl's options besides the method, URL and key


SAMPLES: dict[str, Sample] = {
    "generations_create": Sample(
        python=(
            "g = client.generations.create(\n"
            '    model_key="t2v-14B", prompt="A red fox in fresh snow at dawn", resolution="480p"\n'
            ")\n"
            "g = client.generations.wait(g.id, timeout=300)\n"
            "# or with an image, as a path or a file object:\n"
            "g = client.generations.create_and_wait(\n"
            '    model_key="i2v-14B", prompt="The fox turns its head", resolution="480p",\n'
            '    image="fox.jpg",\n'
            ")\n"
        ),
        typescript=(
            "const g = await client.generations.createAndWait({\n"
            '  model_key: "t2v-14B",\n'
            '  prompt: "A red fox in fresh snow at dawn",\n'
            '  resolution: "480p",\n'
            "});\n"
        ),
        curl_options=(
            '-H "Idempotency-Key: $(uuidgen)" \\\n'
            '  -H "Content-Type: application/json" \\\n'
            '  -d \'{"model_key": "t2v-14B", "prompt": "A red fox in fresh snow at dawn", '
            '"resolution": "480p"}\''
        ),
    ),
    "generations_list": Sample(
        python='for g in client.generations.list(status="succeeded"):\n    print(g.id, g.prompt)\n',
        typescript=(
            'for await (const g of client.generations.list({ status: "succeeded" })) {\n'
            "  console.log(g.id, g.prompt);\n"
            "}\n"
        ),
    ),
    "generations_retrieve": Sample(
        python=f"g = client.generations.get({EXAMPLE_ID})\nprint(g.status, g.progress)\n",
        typescript=f"const g = await client.generations.get({EXAMPLE_ID});\n",
    ),
    "generations_destroy": Sample(
        python=f"client.generations.delete({EXAMPLE_ID})\n",
        typescript=f"await client.generations.delete({EXAMPLE_ID});\n",
    ),
    "generations_cancel": Sample(
        python=f"g = client.generations.cancel({EXAMPLE_ID})\n",
        typescript=f"const g = await client.generations.cancel({EXAMPLE_ID});\n",
    ),
    "generations_retry": Sample(
        python=f"g = client.generations.retry({EXAMPLE_ID})\n",
        typescript=f"const g = await client.generations.retry({EXAMPLE_ID});\n",
    ),
    "generations_star": Sample(
        python=f"g = client.generations.star({EXAMPLE_ID})\n",
        typescript=f"const g = await client.generations.star({EXAMPLE_ID});\n",
    ),
    "generations_unstar": Sample(
        python=f"g = client.generations.unstar({EXAMPLE_ID})\n",
        typescript=f"const g = await client.generations.unstar({EXAMPLE_ID});\n",
    ),
    "generations_video": Sample(
        python=f'client.generations.download({EXAMPLE_ID}, "fox.mp4")\n',
        typescript=f'await client.generations.download({EXAMPLE_ID}, "fox.mp4");\n',
        curl_options="-L -o fox.mp4",  # follows the redirect to object storage, if any
    ),
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
    "models_list": Sample(
        python="for model in client.models.list():\n    print(model.key, model.label)\n",
        typescript="const models = await client.models.list();\n",
    ),
}

PATH_PARAMETER = re.compile(r"\{[^}]+\}")


def code_samples(
    operation_id: str, method: str, path: str, *, authenticated: bool
) -> list[dict[str, str]]:
    """The operation's samples as `x-codeSamples` entries: curl always, the SDKs when known."""
    method = method.upper()
    sample = SAMPLES.get(operation_id)
    samples = [
        {
            "lang": "Shell",
            "label": "curl",
            "source": _curl(method, path, authenticated, sample.curl_options if sample else ""),
        }
    ]
    if sample is not None:
        samples += [
            {"lang": "Python", "label": "Python", "source": PYTHON_CLIENT + sample.python},
            {
                "lang": "TypeScript",
                "label": "TypeScript",
                "source": TYPESCRIPT_CLIENT + sample.typescript,
            },
        ]
    return samples


def as_markdown(samples: list[dict[str, str]]) -> str:
    """The samples as fenced code blocks, for renderers that show only the description."""
    fences = {"Shell": "bash", "Python": "python", "TypeScript": "ts"}
    blocks = [
        f"{sample['label']}:\n\n```{fences[sample['lang']]}\n{sample['source'].rstrip()}\n```"
        for sample in samples
    ]
    return "**Examples**\n\n" + "\n\n".join(blocks)


def _curl(method: str, path: str, authenticated: bool, options: str) -> str:
    url = PATH_PARAMETER.sub(EXAMPLE_ID, path)
    sends_data = "-d " in options
    verb = "" if method == "GET" or (method == "POST" and sends_data) else f"-X {method} "
    lines = [f'curl {verb}"$WANPWA_BASE_URL{url}"']
    if authenticated:
        lines.append('-H "Authorization: Bearer $WANPWA_API_KEY"')
    if options:
        lines.append(options)
    return " \\\n  ".join(lines) + "\n"
