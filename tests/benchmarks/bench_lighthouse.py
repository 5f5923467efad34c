"""Lighthouse's four scores (performance, accessibility, best practices, SEO) for the landing,
create, history, settings and billing pages, at Lighthouse's phone and desktop settings, printed
as a Markdown table (progress goes to stderr).

The app is served as in production (gunicorn, DEBUG off, whitenoise's compressed static files)
from a fresh PostgreSQL database (`wan_pwa_lighthouse`, dropped and recreated) seeded with a
member who has videos (two featured on the landing page, one failed) and a paid order.
Lighthouse drives Debian's Chromium (CHROME_PATH, /usr/bin/chromium by default; it never
downloads a browser). Without Lighthouse the script says so and measures nothing:

    npm install --prefix /tmp/lighthouse lighthouse   # once; or npm install -g lighthouse
    LIGHTHOUSE=/tmp/lighthouse/node_modules/.bin/lighthouse \\
        .venv/bin/python tests/benchmarks/bench_lighthouse.py
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.benchmarks.bench_http import (
    configure_environment,
    free_port,
    log,
    logged_in_client,
    recreate_database,
    session_cookie,
    start_gunicorn,
    stop_gunicorn,
    wait_until_serving,
)

CATEGORIES = ("performance", "accessibility", "best-practices", "seo")
PAGES = ("landing", "create", "history", "settings", "billing")
PRESETS = ("mobile", "desktop")
ATTEMPTS = 3
CHROME_FLAGS = "--headless=new --no-sandbox --disable-gpu --no-first-run"


def find_lighthouse() -> str | None:
    return os.environ.get("LIGHTHOUSE") or shutil.which("lighthouse")


def seed() -> str:
    """A member with videos (one failed), two featured on the landing page and a paid order;
    their session cookie."""
    import django

    django.setup()
    from django.core.management import call_command

    from generations.actions.sharing import (
        enable_sharing,
        feature_generation,
        set_feature_consent,
    )
    from generations.failures import FailureReason
    from generations.models import Status
    from tests.browser.test_every_page import paid_order
    from tests.factories import make_generation, make_user

    call_command("migrate", verbosity=0)
    call_command("collectstatic", "--noinput", verbosity=0)
    member = make_user("lighthouse")
    for prompt in ("A lighthouse on a cliff at dusk", "Waves rolling onto a black sand beach"):
        video = make_generation(member, prompt=prompt, playable=True)
        feature_generation(set_feature_consent(enable_sharing(video), True))
    make_generation(
        member,
        status=Status.FAILED,
        prompt="A city skyline made of stacked books",
        failure_reason=FailureReason.PROVIDER_ERROR,
    )
    paid_order(member, 100)
    return session_cookie(logged_in_client(member))


def audit(
    lighthouse: str, url: str, preset: str, cookie: str, out: Path
) -> tuple[dict[str, int], list[str]]:
    """The four scores, and the audits that did not pass fully (what cost points)."""
    command = [
        lighthouse,
        url,
        "--quiet",
        "--output=json",
        f"--output-path={out}",
        f"--chrome-flags={CHROME_FLAGS}",
        f"--only-categories={','.join(CATEGORIES)}",
    ]
    if preset == "desktop":
        command.append("--preset=desktop")
    if cookie:
        command.append("--extra-headers=" + json.dumps({"Cookie": cookie}))
    env = {**os.environ, "CHROME_PATH": os.environ.get("CHROME_PATH", "/usr/bin/chromium")}
    for attempt in range(ATTEMPTS):
        # Lighthouse sometimes fails to record a trace (NO_NAVSTART) and says to run it again.
        finished = subprocess.run(command, env=env, timeout=300, check=False)  # noqa: S603
        if finished.returncode == 0:
            break
        log(f"Lighthouse failed (attempt {attempt + 1} of {ATTEMPTS})")
    finished.check_returncode()
    report: dict[str, Any] = json.loads(out.read_text())
    scores = {name: round(report["categories"][name]["score"] * 100) for name in CATEGORIES}
    audits = report["audits"]
    missed = sorted(
        {
            ref["id"]
            for name in CATEGORIES
            for ref in report["categories"][name]["auditRefs"]
            if ref["weight"] and (audits[ref["id"]]["score"] or 0) < 1
        }
    )
    return scores, missed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pg", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--db-name", default="wan_pwa_lighthouse")
    args = parser.parse_args()
    lighthouse = find_lighthouse()
    if lighthouse is None:
        print("Lighthouse is not installed (npm install -g lighthouse): nothing measured.")
        return
    with tempfile.TemporaryDirectory(prefix="lighthouse-") as tmp:
        args.tmp = tmp
        port = free_port()
        base_url = f"http://127.0.0.1:{port}"
        configure_environment(args, port, redis=False)
        recreate_database(args.pg, args.db_name)
        server = None
        try:
            log("seeding")
            cookie = seed()
            server = start_gunicorn(port, Path(tmp) / "gunicorn.log")
            wait_until_serving(server, base_url, Path(tmp) / "gunicorn.log")
            urls = {
                "landing": ("/", ""),
                "create": ("/create/", cookie),
                "history": ("/history/", cookie),
                "settings": ("/settings/", cookie),
                "billing": ("/settings/billing/", cookie),
            }
            rows = []
            for preset in PRESETS:
                for page in PAGES:
                    path, page_cookie = urls[page]
                    log(f"{page} ({preset})")
                    out = Path(tmp) / f"{page}-{preset}.json"
                    rows.append(
                        (
                            page,
                            preset,
                            *audit(lighthouse, base_url + path, preset, page_cookie, out),
                        )
                    )
        finally:
            stop_gunicorn(server)
            from django.db import connections

            connections.close_all()
            recreate_database(args.pg, args.db_name, create=False)
    print("| page | form factor | " + " | ".join(CATEGORIES) + " |")
    print("|---|---|" + "---|" * len(CATEGORIES))
    for page, preset, scores, _ in rows:
        print(f"| {page} | {preset} | " + " | ".join(str(scores[c]) for c in CATEGORIES) + " |")
    print()
    for page, preset, _, missed in rows:
        print(f"- {page} ({preset}): {', '.join(missed) or 'every weighted audit passed'}")


if __name__ == "__main__":
    main()
