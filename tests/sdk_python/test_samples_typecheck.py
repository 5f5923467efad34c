"""The Python the docs show (the API docs' samples, the README's SDK section) type-checks
against the SDK, so a renamed call or argument cannot leave them behind."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest
from mypy import api as mypy

from tests.fixtures.live_stack import ROOT
from wan_pwa.api.code_samples import CODE_SAMPLES, PYTHON_CLIENT

SDK_SOURCE = ROOT / "sdks" / "python" / "src"


def readme_sdk_blocks() -> list[str]:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("### Python SDK", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", section, re.DOTALL)


def api_docs_samples() -> str:
    """Every operation's sample, each in a function of its own, after the shared set-up."""
    functions = [
        f"def {operation_id}() -> None:\n{textwrap.indent(sample.python, '    ')}"
        for operation_id, sample in (
            (name, CODE_SAMPLES.get(name)) for name in CODE_SAMPLES.names()
        )
    ]
    return PYTHON_CLIENT + "\n\n" + "\n\n".join(functions)


@pytest.fixture(scope="module")
def mypy_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One cache for the module's runs: the second does not analyse the SDK and httpx again."""
    return tmp_path_factory.mktemp("mypy-cache")


def type_check(files: list[Path], workdir: Path, cache: Path) -> tuple[str, int]:
    config = workdir / "mypy.ini"
    config.write_text(f"[mypy]\nmypy_path = {SDK_SOURCE}\npython_version = 3.11\n")
    report, errors, status = mypy.run(
        [*map(str, files), "--config-file", str(config), "--cache-dir", str(cache)]
    )
    return report + errors, status


def test_the_docs_python_type_checks_against_the_sdk(tmp_path: Path, mypy_cache: Path):
    blocks = readme_sdk_blocks()
    assert len(blocks) == 2  # the quick start and the webhook receiver
    files = []
    for number, source in enumerate([api_docs_samples(), *blocks]):
        files.append(tmp_path / f"sample_{number}.py")
        files[-1].write_text(source)

    report, status = type_check(files, tmp_path, mypy_cache)

    assert status == 0, report


def test_the_type_check_catches_a_call_the_sdk_does_not_have(tmp_path: Path, mypy_cache: Path):
    wrong = tmp_path / "wrong.py"
    wrong.write_text(PYTHON_CLIENT + "client.generations.create(model='t2v-14B', prompt='x')\n")
    report, status = type_check([wrong], tmp_path, mypy_cache)
    assert status == 1 and 'Unexpected keyword argument "model"' in report
