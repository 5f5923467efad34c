"""Code samples for the API docs: each operation with curl, and with the Python and TypeScript
SDKs (sdks/python, sdks/typescript) where they have a call for it. The schema carries them as
`x-codeSamples` (which Redoc and other renderers show) and in each operation's description
(which the served Swagger UI shows); see wan_pwa/api/openapi.py.

The apps register the SDK calls of their operations (by operationId); an operation without
them still gets its curl line, made from its method and path."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from wan_pwa.registry import Registry

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


# By operationId; each app registers its operations' samples from its AppConfig.ready().
CODE_SAMPLES: Registry[Sample] = Registry("code sample")


def register_code_samples(samples: Mapping[str, Sample]) -> None:
    for operation_id, sample in samples.items():
        CODE_SAMPLES.register(operation_id, sample)


PATH_PARAMETER = re.compile(r"\{[^}]+\}")


def code_samples(
    operation_id: str, method: str, path: str, *, authenticated: bool
) -> list[dict[str, str]]:
    """The operation's samples as `x-codeSamples` entries: curl always, the SDKs when known."""
    method = method.upper()
    sample = CODE_SAMPLES.get(operation_id) if operation_id in CODE_SAMPLES.names() else None
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
