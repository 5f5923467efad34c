"""How long after a generation ends its webhook reaches the user's receiver, with the real task
worker running (`manage.py run_worker`, its default 1 s poll when idle, or `--interval`).

Generations are ended one after another (the failing transition, as the watchdog or a webhook
from Replicate would end them) with an endpoint registered for them; a receiver on 127.0.0.1
(through the outbound guard's test allowance) notes when each signed delivery arrives. The
figure is arrival minus the commit of the ending, on one clock.

The script creates a throwaway test database (`test_<name>` of DATABASE_URL), runs the worker
against it as a child process, and drops it afterwards:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/wan_bench \\
        .venv/bin/python tests/benchmarks/bench_webhook_latency.py [--count 30] [--interval 1]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from statistics import median, quantiles

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wan_pwa.settings")
os.environ["OUTBOUND_ALLOWED_PRIVATE_HOSTS"] = "127.0.0.1"

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402

from generations.failures import FailureReason  # noqa: E402
from generations.lifecycle.transitions import mark_failed  # noqa: E402
from generations.models import Status  # noqa: E402
from tests.benchmarks.in_process import throwaway_database  # noqa: E402
from tests.factories import make_generation, make_user  # noqa: E402
from tests.waiting import wait_until  # noqa: E402
from wan_pwa.background.models import WorkerHeartbeat  # noqa: E402
from wan_pwa.outgoing_webhooks.actions import create_endpoint  # noqa: E402

arrivals: dict[int, float] = {}  # generation id -> when its webhook arrived


class Receiver(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        arrivals[json.loads(body)["data"]["id"]] = time.time()
        self.send_response(204)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


def start_worker(interval: float) -> subprocess.Popen:
    database = connection.settings_dict
    url = f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}"
    env = {**os.environ, "DATABASE_URL": url}
    command = [sys.executable, "manage.py", "run_worker", "--no-reload", "--no-startup-delay"]
    command += ["--interval", str(interval)]
    return subprocess.Popen(command, cwd=ROOT, env=env, stderr=subprocess.DEVNULL)  # noqa: S603


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=30, help="generations ended")
    parser.add_argument("--interval", type=float, default=1.0, help="the worker's idle poll (s)")
    parser.add_argument("--gap", type=float, default=0.5, help="seconds between endings")
    args = parser.parse_args()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    with throwaway_database():
        user = make_user("bench-hooks")
        create_endpoint(
            user, f"http://127.0.0.1:{server.server_address[1]}/", ["generation.failed"]
        )
        generations = [
            make_generation(user, status=Status.PROCESSING, charged=False)
            for _ in range(args.count)
        ]
        worker = start_worker(args.interval)
        try:
            # The worker's start-up (and its first periodic jobs) stay outside the figures.
            wait_until(WorkerHeartbeat.objects.exists, timeout=60, what="the worker's start")
            time.sleep(3)
            ended: dict[int, float] = {}
            for generation in generations:
                mark_failed(generation.pk, FailureReason.PROVIDER_ERROR, "benchmark")
                ended[generation.pk] = time.time()  # just after the ending's COMMIT
                time.sleep(args.gap)
            wait_until(lambda: len(arrivals) == len(ended), timeout=60, what="every webhook")
        finally:
            worker.terminate()
            worker.wait(10)
    server.shutdown()

    latencies = sorted((arrivals[pk] - at) * 1000 for pk, at in ended.items())
    p95 = quantiles(latencies, n=20)[-1] if len(latencies) > 1 else latencies[0]
    print(
        f"webhook latency, generation end -> arrival ({len(latencies)} generations, worker "
        f"--interval {args.interval:g} s, one every {args.gap:g} s):\n"
        f"  p50 {median(latencies):.0f} ms, p95 {p95:.0f} ms, "
        f"min {latencies[0]:.0f} ms, max {latencies[-1]:.0f} ms"
    )


if __name__ == "__main__":
    main()
