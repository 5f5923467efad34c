"""Throughput of the generation lifecycle's two hot paths on PostgreSQL, printed as figures.

- submissions: `submit_generation` (validate, lock the balance, apply the limits, charge,
  create, enqueue the submit task and the watchdog), sequentially and from several threads at
  once (one user each);
- webhooks: signed POSTs to /api/webhooks/replicate through the whole Django stack (middleware,
  signature check, event log, status change), a start, two logs and a completed per generation,
  half of them failing (with the refund).

Each figure comes with the SQL statements per call (BEGIN, COMMIT and savepoints included).
The script creates a throwaway test database (`test_<name>` of DATABASE_URL) and drops it
afterwards:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/wan_bench \\
        .venv/bin/python tests/benchmarks/bench_lifecycle.py
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from pathlib import Path
from statistics import mean

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wan_pwa.settings")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection, reset_queries  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from credits.actions import add_credits  # noqa: E402
from credits.audit import audit_credits  # noqa: E402
from tests.benchmarks.in_process import throwaway_database  # noqa: E402
from tests.generations.lifecycle_helpers import (  # noqa: E402
    WEBHOOK_SECRET,
    post_webhook,
    prediction,
    submit,
)


def new_user(name: str, credits: int):
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create_user(name, f"{name}@example.com", "bench-password-1")
    add_credits(user, credits, type="purchase", description="benchmark")
    return user


def bench_submissions(count: int) -> tuple[float, float]:
    user = new_user("bench-submit", count * 5)
    queries = []
    started = time.perf_counter()
    for n in range(count):
        reset_queries()  # the log keeps 9000 entries: start each count from empty
        with CaptureQueriesContext(connection) as captured:
            submit(user, f"Benchmark submission number {n}")
        queries.append(len(captured))
    return count / (time.perf_counter() - started), mean(queries)


def bench_concurrent_submissions(threads: int, per_thread: int) -> float:
    users = [new_user(f"bench-thread-{n}", per_thread * 5) for n in range(threads)]
    barrier = threading.Barrier(threads + 1)

    def work(user) -> None:
        barrier.wait()
        try:
            for n in range(per_thread):
                submit(user, f"Concurrent benchmark submission {n}")
        finally:
            connection.close()

    workers = [threading.Thread(target=work, args=(user,)) for user in users]
    for worker in workers:
        worker.start()
    barrier.wait()
    started = time.perf_counter()
    for worker in workers:
        worker.join()
    return threads * per_thread / (time.perf_counter() - started)


def bench_webhooks(generations: int) -> tuple[float, float]:
    user = new_user("bench-webhooks", generations * 5)
    targets = [submit(user, f"Webhook benchmark generation {n}") for n in range(generations)]
    client = Client()
    queries = []
    calls = 0
    started = time.perf_counter()
    for n, generation in enumerate(targets):
        prediction_id = f"bench-{generation.pk}"
        ending = (
            prediction(prediction_id, "failed", error="benchmark failure")
            if n % 2
            else prediction(prediction_id, "succeeded", output="https://replicate.delivery/b.mp4")
        )
        for body in (
            prediction(prediction_id, "starting"),
            prediction(prediction_id, "processing", logs=" 30%|###"),
            prediction(prediction_id, "processing", logs=" 30%|###\n 70%|#######"),
            ending,
        ):
            reset_queries()
            with CaptureQueriesContext(connection) as captured:
                response = post_webhook(client, generation, body)
            assert response.status_code == 200, response.content
            queries.append(len(captured))
            calls += 1
    return calls / (time.perf_counter() - started), mean(queries)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--submissions", type=int, default=500)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--webhook-generations", type=int, default=250)
    options = parser.parse_args()
    with throwaway_database():
        settings.REPLICATE_WEBHOOK_SECRET = WEBHOOK_SECRET
        # The per-user and site-wide limits count rows; the figures are for the work itself.
        settings.MAX_IN_FLIGHT_PER_USER = settings.API_SUBMISSIONS_PER_MINUTE = 10**9
        settings.DAILY_CREDIT_SPEND_CAP = 10**15
        per_second, queries = bench_submissions(options.submissions)
        print(f"submissions, one at a time: {per_second:8.1f}/s  {queries:.1f} SQL queries each")
        per_thread = max(1, options.submissions // options.threads)
        concurrent = bench_concurrent_submissions(options.threads, per_thread)
        print(f"submissions, {options.threads} threads:      {concurrent:8.1f}/s")
        per_second, queries = bench_webhooks(options.webhook_generations)
        print(f"webhooks through the endpoint: {per_second:5.1f}/s  {queries:.1f} SQL queries each")
        report = audit_credits()
        print(f"credits audit afterwards: {'clean' if report.clean else report.mismatches}")


if __name__ == "__main__":
    main()
