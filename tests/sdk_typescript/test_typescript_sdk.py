"""The TypeScript SDK (sdks/typescript): its types generated from the schema we serve, the API
docs' and README's TypeScript compiled against it, its portable check in Chromium, and its own
tests (Node's test runner) against the live stack."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.core.management import call_command
from playwright.sync_api import Route, sync_playwright

from credits.models import CreditPack
from tests.browser.chromium import CHROMIUM, CHROMIUM_ARGS
from tests.factories import clip_bytes, make_user, png_bytes
from tests.fixtures.live_stack import LiveStack
from wan_pwa.accounts.api_keys import create_api_key
from wan_pwa.api.code_samples import CODE_SAMPLES, TYPESCRIPT_CLIENT

# The SDK needs Node 20 (fetch, Blob, FormData, Web Crypto as globals); its tests 20.10
# (node --test-concurrency, module.register).
MIN_NODE = (20, 10)
SDK = (Path(settings.BASE_DIR) / "sdks" / "typescript").resolve()
STALE = (
    "sdks/typescript/src/schema.ts is not what the current schema generates: regenerate it "
    "(sdks/typescript/README.md says how) and commit it."
)
# One user a test file (a key each), so balances and limits do not mix; "poor" has no credits.
USERS = {
    "generations": 100,
    "takes": 100,
    "account": 100,
    "retries": 100,
    "flaky": 100,
    "errors": 100,
    "endpoints": 100,
    "poor": 0,
    "read_only": 100,
}
SCOPES = {"read_only": ["generations:read"]}  # the others: every scope


def run(
    command: list[str],
    *,
    timeout: float,
    env: dict[str, str] | None = None,
    context: Callable[[], str] = str,
) -> str:
    """Runs a command in the SDK's folder and returns its output; fails the test with that
    output (and `context()`) if it fails."""
    try:
        done = subprocess.run(  # noqa: S603 (node and npm, found on PATH)
            command,
            cwd=SDK,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as expired:
        pytest.fail(
            f"{' '.join(command)} took over {timeout:g} s:\n{expired.stdout!r}\n{context()}"
        )
    if done.returncode:
        pytest.fail(
            f"{' '.join(command)} failed:\n{done.stdout}\n{done.stderr}\n{context()}", pytrace=False
        )
    return done.stdout


@pytest.fixture(scope="session")
def typescript_sdk() -> Path:
    """The SDK installed from its package-lock.json and built (npm ci runs `prepare`: tsc)."""
    if not (shutil.which("node") and shutil.which("npm")):
        pytest.fail("The TypeScript SDK needs node and npm: `make test` installs them (apt).")
    version = run(["node", "--version"], timeout=30).strip()
    if tuple(int(part) for part in version.lstrip("v").split(".")[:2]) < MIN_NODE:
        needed = ".".join(map(str, MIN_NODE))
        pytest.fail(f"The TypeScript SDK's tests need Node {needed} or newer; this is {version}.")
    run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], timeout=300)
    return SDK


def test_the_committed_types_are_generated_from_the_current_schema(
    typescript_sdk: Path, tmp_path: Path
) -> None:
    schema = tmp_path / "openapi.json"
    call_command("spectacular", format="openapi-json", file=str(schema))
    # openapi-typescript's own --check: the file it would write equals src/schema.ts.
    check = ["npm", "run", "--silent", "generate", "--", str(schema), "-o", "src/schema.ts"]
    run([*check, "--check"], timeout=60, context=lambda: STALE)


def compile_against_sdk(sources: dict[str, str], folder: Path) -> None:
    """Type-checks TypeScript files (name -> code) that import "wanpwa" against the built SDK."""
    for name, code in sources.items():
        (folder / f"{name}.ts").write_text(code)
    (folder / "package.json").write_text('{"type": "module"}')
    options = {
        "target": "ES2022",
        "module": "NodeNext",
        "moduleResolution": "NodeNext",
        "strict": True,
        "noEmit": True,
        "skipLibCheck": True,
        "lib": ["ES2022", "DOM"],
        "types": ["node"],
        "typeRoots": [str(SDK / "node_modules" / "@types")],
        "paths": {"wanpwa": [str(SDK / "dist" / "index.d.ts")]},
    }
    config = {"compilerOptions": options, "include": ["*.ts"]}
    (folder / "tsconfig.json").write_text(json.dumps(config))
    run([str(SDK / "node_modules/.bin/tsc"), "-p", str(folder)], timeout=120)


def test_the_api_docs_and_readme_typescript_compiles_against_the_sdk(
    typescript_sdk: Path, tmp_path: Path
) -> None:
    """Each operation's sample on the API docs page, and the README's quick start, type-check
    against the SDK: neither can drift from its calls."""
    samples = {
        f"docs_{name}": TYPESCRIPT_CLIENT + CODE_SAMPLES.get(name).typescript
        for name in CODE_SAMPLES.names()
    }
    readme = (Path(settings.BASE_DIR) / "README.md").read_text()
    section = readme.split("### TypeScript SDK", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```ts\n(.*?)```", section, flags=re.DOTALL)
    assert blocks, "the README's TypeScript SDK section has ```ts examples"
    compile_against_sdk(
        {**samples, **{f"readme_{i}": block for i, block in enumerate(blocks)}}, tmp_path
    )


ORIGIN = "https://sdk.test"  # a secure context (Web Crypto, randomUUID) that Playwright serves
SERVED = {".js": "text/javascript", ".mjs": "text/javascript", ".map": "application/json"}


def serve_sdk(route: Route) -> None:
    """The built SDK and its portable check, at ORIGIN; a blank page at its root."""
    path = urlsplit(route.request.url).path
    file = (SDK / path.lstrip("/")).resolve()
    if path == "/":
        route.fulfill(
            status=200, content_type="text/html", body="<!doctype html><title>SDK</title>"
        )
    elif file.parent in {SDK / "dist", SDK / "test"} and file.suffix in SERVED and file.is_file():
        route.fulfill(status=200, content_type=SERVED[file.suffix], body=file.read_bytes())
    else:
        route.fulfill(status=404, body="")


@pytest.mark.browser
def test_the_sdk_runs_in_chromium(typescript_sdk: Path) -> None:
    """A page imports the built SDK, uploads a Blob through a retried 503 and verifies a
    webhook with Web Crypto (test/portable_check.mjs, which Node also runs without Node's
    modules)."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        try:
            page = browser.new_page()
            page.route(f"{ORIGIN}/**", serve_sdk)
            page.goto(f"{ORIGIN}/")
            result = page.evaluate(
                """async () => {
                    const sdk = await import("/dist/index.js");
                    const { check } = await import("/test/portable_check.mjs");
                    return await check(sdk);
                }"""
            )
        finally:
            browser.close()
    assert result == "portable"


@pytest.mark.postgres
@pytest.mark.timeout(300)
def test_the_typescript_sdk_against_the_live_stack(
    typescript_sdk: Path,
    transactional_db: None,
    live_stack: LiveStack,
    tmp_path: Path,
    assert_audit_clean: Callable[[], None],
) -> None:
    keys = {}
    for name, credits in USERS.items():
        user = make_user(f"ts-{name}", credits=credits)
        keys[name] = create_api_key(user, "typescript sdk tests", scopes=SCOPES.get(name))[1]
    image = tmp_path / "lighthouse.png"
    image.write_bytes(png_bytes((128, 96)))
    clip = tmp_path / "harbour.mp4"  # a take's source: edits last as long as theirs (2 s or more)
    clip.write_bytes(clip_bytes(2.5))
    CreditPack.objects.create(name="Starter", credits=100, price=500, currency="usd")
    env = {
        **os.environ,
        "WANPWA_BASE_URL": live_stack.url,
        "WANPWA_TEST_KEYS": json.dumps(keys),
        "WANPWA_TEST_IMAGE": str(image),
        "WANPWA_TEST_CLIP": str(clip),
    }
    tests = sorted(str(path.relative_to(SDK)) for path in (SDK / "test").glob("*.test.mjs"))
    command = ["node", "--test", "--test-concurrency=8", "--test-reporter=spec", *tests]
    run(command, timeout=240, env=env, context=live_stack.log_tail)
    live_stack.settle()  # before the database is emptied under the servers
    assert_audit_clean()
