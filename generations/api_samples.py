"""The SDK calls of the generation and model endpoints, by operationId, for the API docs
(registered in GenerationsConfig.ready(); see wan_pwa/api/code_samples.py)."""

from __future__ import annotations

from wan_pwa.api.code_samples import EXAMPLE_ID, Sample

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
    # One call on one generation, answering it as it is now.
    **{
        f"generations_{verb}": Sample(
            python=f"g = client.generations.{verb}({EXAMPLE_ID})\n",
            typescript=f"const g = await client.generations.{verb}({EXAMPLE_ID});\n",
        )
        for verb in ("cancel", "retry", "star", "unstar")
    },
    "generations_video": Sample(
        python=f'client.generations.download({EXAMPLE_ID}, "fox.mp4")\n',
        typescript=f'await client.generations.download({EXAMPLE_ID}, "fox.mp4");\n',
        curl_options="-L -o fox.mp4",  # follows the redirect to object storage, if any
    ),
    "models_list": Sample(
        python="for model in client.models.list():\n    print(model.key, model.label)\n",
        typescript="const models = await client.models.list();\n",
    ),
}
