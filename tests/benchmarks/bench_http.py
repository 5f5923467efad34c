"""HTTP throughput of Wan PWA's hot paths under gunicorn on PostgreSQL, driven by wrk, printed as
a Markdown table (progress goes to stderr, the table to stdout).

For each cache mode (the database cache, then Redis) the script makes a fresh database
(`wan_pwa_bench`, dropped and recreated), migrates, seeds users, API keys, credits and
generations through the project's own actions, starts gunicorn (4 sync workers, settings
`tests.benchmarks.bench_settings`, everything else from the environment as in production) on a
free port, and runs wrk against each path. SQL statements and COMMITs per request are counted
in-process (see EXPLANATION below). Needs PostgreSQL on 127.0.0.1:5432 (trust auth, user
postgres), Redis on 127.0.0.1:6379 for the Redis mode, and wrk (`apt-get install -y wrk`):

    .venv/bin/python tests/benchmarks/bench_http.py                  # both modes, 10 s per path
    .venv/bin/python tests/benchmarks/bench_http.py --no-redis --duration 5
"""

from __future__ import annotations

import argparse
import base64
import functools
import hashlib
import hmac
import itertools
import json
import math
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
SETTINGS_MODULE = "tests.benchmarks.bench_settings"
WEBHOOK_SECRET = "whsec_" + base64.b64encode(b"bench-http-webhook-signing-key!!").decode()
PROMPT = "A benchmark prompt about a red fox running through fresh snow"
SUBMIT_BODY = {
    "model_key": "t2v-1.3B",
    "resolution": "480p",
    "aspect_ratio": "16:9",
    "prompt": PROMPT,
}
WEBHOOK_PATH = "/api/webhooks/replicate?generation={}"
GUNICORN_WORKERS = 4
THREADS = 2
API_USERS = 64  # two per connection: a user's submissions rarely wait for their balance lock
POOL_USERS = 8  # owners of the in-flight generations the webhooks update
HISTORY_SIZES = (1_000, 10_000)
GRANT = 10_000_000  # credits per user: the balance never runs out during a run
UNLIMITED = str(10**9)
MAX_DURATION = 240  # webhook timestamps must stay within five minutes of their signing
OTHERS_NOTICEABLE = 0.2  # CPUs used by someone else during a run that deserve a note

EXPLANATION = """\
## HTTP benchmark: gunicorn ({workers} sync workers) + PostgreSQL, load from wrk

- Machine: {cpus} CPUs shared by wrk, gunicorn and PostgreSQL. Python {python}, Django {django},
  gunicorn {gunicorn}, psycopg {psycopg}, {postgres}, {wrk}.
- Load: `wrk -t{threads} -c{conns} -d{duration}s` per path (the history pages: `-c{history_conns}`),
  after a concurrent warm-up of the workers. Settings as in production (DEBUG off, persistent
  connections with health checks), submission limits raised so that the path is measured, not
  the refusal.
- req/s, p50, p99: wrk's figures (p50/p99 from `latency:percentile()` in the Lua `done()`).
  gunicorn's sync workers close the connection after each response, so every request also pays
  a TCP connect; a request waits in the listen queue while all workers are busy, so with more
  connections than workers p50/p99 include queueing.
- vs bare, vs 1-commit: the path's req/s divided by the bare JSON view's (`GET /bench/bare/`, no
  database) and by the one-INSERT-one-COMMIT view's (`POST /bench/write/`): 1.00 is as fast,
  0.25 a quarter of the throughput.
- The history rows run at {history_conns} connections, the others at {conns}: their ratios
  compare throughput at different concurrency (on a machine this size, both saturate it).
- SQL/req and COMMITs/req are not measured under load: each path's request is sent once more
  in-process with Django's test client, against the same database, cache and settings, after
  one warm-up request (so once-a-minute writes such as an API key's `last_used_at` are left
  out). SQL/req counts the statements Django sends through its cursors
  (`connection.execute_wrapper`), SAVEPOINT/RELEASE included; psycopg's own BEGIN and the
  COMMIT are not statements here, nor is the `SELECT 1` health check (CONN_HEALTH_CHECKS) that
  every request touching the database makes first. COMMITs/req counts committed transactions:
  the outermost `transaction.atomic()` commits (a counting wrapper on `connection._commit`)
  plus each INSERT/UPDATE/DELETE run in autocommit mode (its own implicit transaction). Read-only
  autocommit statements are not counted as commits. Redis commands are not counted.
- Other work on the machine skews the figures: the CPU that processes other than the
  benchmark's own used during each run is measured from /proc, and noted under the table when
  it reaches {others} CPUs.
- non-2xx/304: responses with any other status, tallied by status in wrk's Lua `response()`
  (so a redirect to the login page shows up, which wrk's own "Non-2xx or 3xx" line would
  hide), plus wrk's socket errors and timeouts.
"""

# --------------------------------------------------------------------------------------------
# wrk


LUA = """\
-- Written by tests/benchmarks/bench_http.py for one wrk run.
local cfg = %(config)s
local counter = 0
local threads = {}

function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

local function headers_with(extra)
  local merged = {}
  for name, value in pairs(cfg.headers) do merged[name] = value end
  for name, value in pairs(extra) do merged[name] = value end
  return merged
end

function init(args)
  statuses, outcomes, repeats, reqs, pos, passes = {}, {}, 0, {}, 0, 0
  if cfg.pool then
    -- Pre-signed webhook deliveries, one per line: path, id, timestamp, signature, body. Each
    -- thread takes its own share, so no delivery is sent twice unless the pool runs out.
    local index = 0
    for line in io.lines(cfg.pool) do
      if index %% cfg.threads == tid then
        local path, id, ts, sig, body = line:match(
          "^([^\\t]*)\\t([^\\t]*)\\t([^\\t]*)\\t([^\\t]*)\\t(.*)$")
        local signed = {["webhook-id"] = id, ["webhook-timestamp"] = ts,
                        ["webhook-signature"] = sig}
        reqs[#reqs + 1] = wrk.format(cfg.method, path, headers_with(signed), body)
      end
      index = index + 1
    end
  else
    -- One request per header set (e.g. one API key each), taken round robin; the threads
    -- share the sets out when there are enough to go round.
    local share = #cfg.rotate >= cfg.threads
    for index, extra in ipairs(cfg.rotate) do
      if not share or (index - 1) %% cfg.threads == tid then
        reqs[#reqs + 1] = wrk.format(cfg.method, cfg.path, headers_with(extra), cfg.body)
      end
    end
  end
end

function request()
  pos = pos + 1
  if pos > #reqs then
    pos, passes = 1, passes + 1
  end
  if passes > 0 then repeats = repeats + 1 end
  return reqs[pos]
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
  if cfg.pool then  -- what the webhook endpoint says it did: applied, unchanged, duplicate...
    local outcome = body:match('"outcome":%%s*"([%%w_]+)"') or "none"
    outcomes[outcome] = (outcomes[outcome] or 0) + 1
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("BENCH summary %%d %%d %%.1f %%.1f\\n", summary.requests,
    summary.duration, latency:percentile(50), latency:percentile(99)))
  io.write(string.format("BENCH errors connect=%%d read=%%d write=%%d timeout=%%d\\n",
    e.connect, e.read, e.write, e.timeout))
  for _, thread in ipairs(threads) do
    for status, count in pairs(thread:get("statuses")) do
      io.write(string.format("BENCH status %%d %%d\\n", status, count))
    end
    for outcome, count in pairs(thread:get("outcomes")) do
      io.write(string.format("BENCH outcome %%s %%d\\n", outcome, count))
    end
    io.write(string.format("BENCH repeats %%d\\n", thread:get("repeats")))
  end
end
"""


@dataclass
class Load:
    """One wrk run: what to send, to which path, over how many connections."""

    key: str
    label: str
    method: str
    path: str
    connections: int
    headers: dict[str, str] = field(default_factory=dict)
    body: str | None = None
    rotate: list[dict[str, str]] = field(default_factory=lambda: [{}])
    pool: Path | None = None  # pre-signed webhook deliveries (see LUA)


@dataclass
class WrkResult:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    statuses: dict[int, int]
    socket_errors: dict[str, int]
    repeats: int
    outcomes: dict[str, int] = field(default_factory=dict)

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def failures(self) -> str:
        """Responses other than 2xx and 304, and socket errors; "0" when there are none."""
        bad = {
            status: count
            for status, count in sorted(self.statuses.items())
            if not (200 <= status < 300 or status == 304)
        }
        parts = [f"{count} x {status}" for status, count in bad.items()]
        parts += [f"{count} {kind}" for kind, count in self.socket_errors.items() if count]
        return ", ".join(parts) or "0"


def lua_literal(value: Any) -> str:
    if value is None:
        return "nil"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value)  # JSON's string escapes are valid Lua for ASCII text
    if isinstance(value, list):
        return "{" + ", ".join(lua_literal(item) for item in value) + "}"
    if isinstance(value, dict):
        items = (f"[{lua_literal(str(k))}] = {lua_literal(v)}" for k, v in value.items())
        return "{" + ", ".join(items) + "}"
    raise TypeError(f"no Lua literal for {value!r}")


class CpuWatch:
    """The CPU that processes other than the benchmark's own used during a run: everything
    busy (/proc/stat) minus this process and its waited-for children (wrk), gunicorn's process
    group, Redis, and PostgreSQL's processes except the backends of other databases."""

    HZ = os.sysconf("SC_CLK_TCK")

    def __init__(self, gunicorn_group: int, db_name: str) -> None:
        self.gunicorn_group, self.db_name = gunicorn_group, db_name

    @staticmethod
    def _busy() -> int:
        with open("/proc/stat") as stat:
            user, nice, system, _idle, _iowait, irq, softirq, steal = map(
                int, stat.readline().split()[1:9]
            )
        return user + nice + system + irq + softirq + steal

    def _ours(self) -> float:
        own = os.times()
        ticks = (own.user + own.system + own.children_user + own.children_system) * self.HZ
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                with open(f"/proc/{pid}/stat") as stat:
                    fields = stat.read().rsplit(")", 1)[1].split()
                with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
                    command = cmdline.read().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue  # gone meanwhile
            if int(pid) == os.getpid():
                continue  # counted by os.times()
            backend = command.startswith("postgres:") and ("(" in command or "[local]" in command)
            if (
                int(fields[2]) == self.gunicorn_group
                or command.startswith("redis-server")
                or (
                    command.startswith("postgres:")
                    and (not backend or f" {self.db_name} " in command)
                )
            ):
                ticks += int(fields[11]) + int(fields[12])  # utime, stime
        return ticks

    def __enter__(self) -> CpuWatch:
        self.started, self.busy, self.ours = time.monotonic(), self._busy(), self._ours()
        return self

    def __exit__(self, *exc: object) -> None:
        others = (self._busy() - self.busy) - (self._ours() - self.ours)
        self.other_cpus = max(0.0, others / self.HZ / (time.monotonic() - self.started))


def run_wrk(load: Load, base_url: str, duration: int, workdir: Path) -> WrkResult:
    config = {
        "method": load.method,
        "path": load.path,
        "headers": load.headers,
        "body": load.body,
        "rotate": load.rotate,
        "pool": str(load.pool) if load.pool else None,
        "threads": THREADS,
    }
    script = workdir / f"{load.key}.lua"
    script.write_text(LUA % {"config": lua_literal(config)})
    command = [
        "wrk",
        f"-t{THREADS}",
        f"-c{load.connections}",
        f"-d{duration}s",
        "--timeout=30s",
        "--latency",
        f"--script={script}",
        base_url + load.path,
    ]
    done = subprocess.run(  # noqa: S603 (wrk with our own arguments)
        command, capture_output=True, text=True, timeout=duration + 120
    )
    if done.returncode != 0 or "BENCH summary" not in done.stdout:
        raise RuntimeError(f"wrk failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    result = WrkResult(0, 0.0, 0.0, 0.0, {}, {}, 0)
    for kind, rest in re.findall(r"^BENCH (\w+) (.*)$", done.stdout, re.M):
        if kind == "summary":
            requests, micros, p50, p99 = rest.split()
            result.requests, result.seconds = int(requests), int(micros) / 1e6
            result.p50_ms, result.p99_ms = float(p50) / 1000, float(p99) / 1000
        elif kind == "errors":
            result.socket_errors = {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", rest)}
        elif kind == "status":
            status, count = map(int, rest.split())
            result.statuses[status] = result.statuses.get(status, 0) + count
        elif kind == "outcome":
            outcome, count = rest.split()
            result.outcomes[outcome] = result.outcomes.get(outcome, 0) + int(count)
        elif kind == "repeats":
            result.repeats += int(rest)
    return result


# --------------------------------------------------------------------------------------------
# Plain HTTP (warm-up and probes) and webhook signing


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # a redirect is an answer to report, not to follow


# No proxies (the environment may set one) and no redirects.
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect)


def http(
    method: str, url: str, headers: dict[str, str] | None = None, body: str | None = None
) -> tuple[int, dict[str, str]]:
    data = body.encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with OPENER.open(request, timeout=30) as response:
            response.read()
            return response.status, dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers)


def sign(body: str, webhook_id: str, timestamp: str) -> str:
    """The Standard Webhooks signature Replicate sends (see webhooks/verification.py)."""
    key = base64.b64decode(WEBHOOK_SECRET.removeprefix("whsec_"))
    signed = f"{webhook_id}.{timestamp}.{body}".encode()
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def signed_headers(body: str) -> dict[str, str]:
    webhook_id, timestamp = f"msg_bench_{secrets.token_hex(10)}", str(int(time.time()))
    return {
        "webhook-id": webhook_id,
        "webhook-timestamp": timestamp,
        "webhook-signature": sign(body, webhook_id, timestamp),
    }


def write_pool(deliveries: list[tuple[str, str]], path: Path) -> Path:
    """Signs every (path, body) now, each with its own webhook id, one line per delivery."""
    with path.open("w") as out:
        for url, body in deliveries:
            headers = signed_headers(body)
            out.write(
                f"{url}\t{headers['webhook-id']}\t{headers['webhook-timestamp']}\t"
                f"{headers['webhook-signature']}\t{body}\n"
            )
    return path


def prediction(prediction_id: str, status: str, **fields: Any) -> dict[str, Any]:
    """A prediction shaped like Replicate's webhook body: the tests' own, imported once Django is
    set up (every caller runs after django.setup())."""
    from tests.generations.lifecycle_helpers import prediction as shaped

    return shaped(prediction_id, status, **fields)


def progress_body(prediction_id: str, percent: int) -> str:
    logs = f"{percent:3d}%|{'#' * (percent // 10)}"
    return json.dumps(prediction(prediction_id, "processing", logs=logs))


def failed_body(prediction_id: str) -> str:
    return json.dumps(
        prediction(prediction_id, "failed", error="Benchmark: CUDA out of memory", logs="12%|#")
    )


# --------------------------------------------------------------------------------------------
# One mode, in its own process (the cache backend is chosen when the settings are imported)


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def configure_environment(args: argparse.Namespace, port: int, redis: bool) -> None:
    """What gunicorn and this process read through wan_pwa/settings.py."""
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": SETTINGS_MODULE,
            "DATABASE_URL": f"{args.pg}/{args.db_name}",
            "DEBUG": "false",
            "SECRET_KEY": "bench-http-" + secrets.token_urlsafe(40),
            "ALLOWED_HOSTS": "127.0.0.1",
            "SITE_URL": f"http://127.0.0.1:{port}",
            "CSRF_TRUSTED_ORIGINS": f"http://127.0.0.1:{port}",
            "REPLICATE_WEBHOOK_SECRET": WEBHOOK_SECRET,
            # Only tasks are enqueued (no worker runs); nothing may reach Replicate anyway.
            "REPLICATE_API_TOKEN": "bench-unused",
            "REPLICATE_BASE_URL": "http://127.0.0.1:9",
            "API_SUBMISSIONS_PER_MINUTE": UNLIMITED,
            "MAX_IN_FLIGHT_PER_USER": UNLIMITED,
            "DAILY_CREDIT_SPEND_CAP": str(10**15),
            "DATA_DIR": str(Path(args.tmp) / "data"),
            "STATIC_ROOT": str(Path(args.tmp) / "static"),
            "LOG_LEVEL": "WARNING",
        }
    )
    if redis:
        os.environ["REDIS_URL"] = f"redis://127.0.0.1:6379/{args.redis_db}"
    else:
        os.environ.pop("REDIS_URL", None)


def recreate_database(pg: str, name: str, *, create: bool = True) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(f"{pg}/postgres", autocommit=True, connect_timeout=5) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        if create:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def flush_redis() -> None:
    import redis

    client = redis.Redis.from_url(os.environ["REDIS_URL"], socket_timeout=5)
    client.flushdb()
    client.close()


@dataclass
class Seed:
    api_keys: list[str]
    pool_users: list[Any]
    web_client: Any  # a logged-in django.test.Client
    card_generation: int
    history_clients: dict[int, Any]


def new_user(name: str, credits: int = 0) -> Any:
    from django.contrib.auth import get_user_model

    from credits.actions import add_credits

    # No password: nobody logs in with one, and hashing 80 of them would take seconds.
    user = get_user_model().objects.create_user(name, f"{name}@bench.invalid", None)
    if credits:
        add_credits(user, credits, type="purchase", description="benchmark")
    return user


def logged_in_client(user: Any) -> Any:
    from django.test import Client

    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(user)
    return client


def session_cookie(client: Any) -> str:
    from django.conf import settings

    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


def in_flight_generations(users: list[Any], count: int, label: str) -> list[tuple[int, str]]:
    """`count` generations in processing, each submitted (and charged) by the submit action
    (through the tests' `submit` helper) and moved to processing by the webhook action, as
    Replicate's first webhook would, one thread per owner. Returns (id, prediction id) pairs,
    interleaved so neighbours have different owners (their refunds lock different balances)."""
    from django.db import connections

    from tests.generations.lifecycle_helpers import submit

    def make(user: Any, how_many: int) -> list[tuple[int, str]]:
        made = []
        try:
            for n in range(how_many):
                generation = submit(user, f"{label} {n}: {PROMPT}")
                prediction_id = f"bench-{generation.pk}"
                processing(generation.pk, prediction_id)
                made.append((generation.pk, prediction_id))
            return made
        finally:
            connections.close_all()  # this thread's connection

    shares = [count // len(users) + (n < count % len(users)) for n in range(len(users))]
    with ThreadPoolExecutor(len(users)) as pool:
        per_user = list(pool.map(make, users, shares))
    return [pair for group in itertools.zip_longest(*per_user) if group for pair in group if pair]


def processing(generation_id: int, prediction_id: str) -> None:
    """Replicate's news that the prediction runs, through the webhook action (signature checks
    aside, what the endpoint does with it)."""
    from generations.replicate import predictions
    from webhooks.actions import receive_replicate_webhook

    body = prediction(prediction_id, "processing", logs="  0%|")
    outcome = receive_replicate_webhook(
        f"bench-seed-{generation_id}", generation_id, predictions.parse(body), body
    )
    if outcome != "applied":
        raise RuntimeError(f"generation {generation_id} not moved to processing: {outcome}")


def seed_history(user: Any, count: int) -> None:
    """Finished generations for the history page, in one bulk insert (read-only rows: no
    ledger entries, which the history page does not need)."""
    from django.utils import timezone

    from generations.failures import FailureReason
    from generations.models import Generation, Kind, Status

    reasons = {
        Status.FAILED: FailureReason.PROVIDER_ERROR,
        Status.CANCELED: FailureReason.CANCELED_BY_USER,
    }
    now = timezone.now()
    statuses = [Status.SUCCEEDED] * 3 + [Status.FAILED, Status.CANCELED]
    rows = []
    for n in range(count):
        status = statuses[n % len(statuses)]
        rows.append(
            Generation(
                user=user,
                kind=Kind.TEXT_TO_VIDEO,
                model_key="t2v-1.3B",
                resolution="480p",
                aspect_ratio="16:9",
                prompt=f"History benchmark generation {n}: {PROMPT}",
                cost=5,
                status=status,
                replicate_status=status,
                prediction_id=f"bench-history-{user.pk}-{n}",
                progress=100 if status == Status.SUCCEEDED else 40,
                video=f"videos/bench-{n}.mp4" if status == Status.SUCCEEDED else "",
                failure_reason=reasons.get(status, ""),
                submitted_at=now,
                started_at=now,
                completed_at=now,
            )
        )
    Generation.objects.bulk_create(rows, batch_size=2000)


def seed(args: argparse.Namespace) -> Seed:
    from tests.generations.lifecycle_helpers import submit
    from wan_pwa.accounts.api_keys import create_api_key

    log(f"seeding: {API_USERS} API users with keys, {POOL_USERS} webhook owners, history users")
    api_keys = []
    for n in range(API_USERS):
        user = new_user(f"bench-api-{n:02d}", GRANT)
        api_keys.append(create_api_key(user, "benchmark")[1])
    pool_users = [new_user(f"bench-hooks-{n}", GRANT) for n in range(POOL_USERS)]

    web_user = new_user("bench-web", GRANT)
    card = submit(web_user, PROMPT)
    processing(card.pk, f"bench-card-{card.pk}")

    history_clients = {}
    for size in HISTORY_SIZES:
        user = new_user(f"bench-history-{size}")
        seed_history(user, size)
        history_clients[size] = logged_in_client(user)
    return Seed(api_keys, pool_users, logged_in_client(web_user), card.pk, history_clients)


# SQL counting


WRITE_STATEMENT = re.compile(r"\s*(INSERT|UPDATE|DELETE)\b", re.IGNORECASE)


@dataclass
class SqlCount:
    status: int = 0
    statements: int = 0
    commits: int = 0
    outcome: str = ""  # a webhook's answer
    sql: list[str] = field(default_factory=list)


@contextmanager
def counting_sql() -> Iterator[SqlCount]:
    """Counts statements and committed transactions on this thread's default connection."""
    from django.db import connection

    count = SqlCount()

    def wrapper(execute: Callable, sql: str, params: Any, many: bool, context: Any) -> Any:
        count.statements += 1
        count.sql.append(sql)
        if not connection.in_atomic_block and connection.get_autocommit():
            count.commits += bool(WRITE_STATEMENT.match(sql))  # an implicit transaction
        return execute(sql, params, many, context)

    patched: Any = connection  # _commit is private: django-stubs leaves it out
    real_commit = patched._commit

    def counted_commit() -> Any:
        count.commits += 1
        return real_commit()

    patched._commit = counted_commit  # a measuring tool may patch the instance
    try:
        with connection.execute_wrapper(wrapper):
            yield count
    finally:
        del patched._commit


def measure(call: Callable[[], Any]) -> SqlCount:
    call()  # warm-up: first-use work (caches, once-a-minute writes) is not the steady state
    with counting_sql() as count:
        response = call()
    count.status = response.status_code
    if response.get("Content-Type") == "application/json":
        count.outcome = str(response.json().get("outcome", "")) if response.content else ""
    return count


def measure_all(seed: Seed) -> dict[str, SqlCount]:
    from django.test import Client

    log("counting SQL per request in-process")
    client = Client(HTTP_HOST="127.0.0.1")
    bearer = {"Authorization": f"Bearer {seed.api_keys[0]}"}

    progress_target = in_flight_generations(seed.pool_users[:1], 1, "SQL count, progress")[0]
    percents = iter(range(10, 100, 10))

    def progress() -> Any:
        pk, prediction_id = progress_target
        body = progress_body(prediction_id, next(percents))
        return webhook(pk, body)

    terminal_targets = iter(in_flight_generations(seed.pool_users[:2], 2, "SQL count, failed"))

    def terminal() -> Any:
        pk, prediction_id = next(terminal_targets)
        return webhook(pk, failed_body(prediction_id))

    # The card poll as the browser repeats it: with the validator of the first answer, if any.
    card_url = card_path(seed.card_generation)
    first = seed.web_client.get(card_url, headers=HTMX)
    card_headers = HTMX | {
        ask: first[got] for got, ask in VALIDATORS.items() if first.has_header(got)
    }

    def webhook(pk: int, body: str) -> Any:
        return client.post(
            WEBHOOK_PATH.format(pk),
            data=body,
            content_type="application/json",
            headers=signed_headers(body),
        )

    return {
        "bare": measure(lambda: client.get("/bench/bare/")),
        "write": measure(lambda: client.post("/bench/write/")),
        "credits": measure(lambda: client.get("/api/v1/credits/", headers=bearer)),
        "submit": measure(
            lambda: client.post(
                "/api/v1/generations/",
                data=json.dumps(SUBMIT_BODY),
                content_type="application/json",
                headers=bearer,
            )
        ),
        "progress": measure(progress),
        "terminal": measure(terminal),
        "card": measure(lambda: seed.web_client.get(card_url, headers=card_headers)),
        **{
            f"history-{size}": measure(functools.partial(history_client.get, "/history/"))
            for size, history_client in seed.history_clients.items()
        },
    }


HTMX = {"HX-Request": "true"}
# What a conditional GET sends back: response header -> request header.
VALIDATORS = {"ETag": "If-None-Match", "Last-Modified": "If-Modified-Since"}


def card_path(pk: int) -> str:
    # What the history page's in-flight card polls every 2 s (templates/generations/history.html).
    return f"/generations/{pk}/card/?since=processing&next=%2Fhistory%2F"


# gunicorn


def start_gunicorn(port: int, log_path: Path) -> subprocess.Popen:
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "wan_pwa.wsgi:application",
        f"--workers={GUNICORN_WORKERS}",
        "--worker-class=sync",
        f"--bind=127.0.0.1:{port}",
        "--timeout=60",
        "--graceful-timeout=5",
        "--log-level=warning",
    ]
    with log_path.open("w") as out:
        # A session of its own, so stopping it reaches the workers and nothing else.
        return subprocess.Popen(  # noqa: S603 (our own gunicorn)
            command, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )


def wait_until_serving(server: subprocess.Popen, base_url: str, log_path: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn exited:\n{log_path.read_text()[-3000:]}")
        try:
            if http("GET", base_url + "/bench/bare/")[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not answer within 60 s:\n{log_path.read_text()[-3000:]}")


def stop_gunicorn(server: subprocess.Popen | None) -> None:
    if server is None or server.poll() is not None:
        return
    server.terminate()  # the master stops its workers gracefully
    try:
        server.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait(timeout=5)


def settle(base_url: str) -> None:
    """Waits (10 s at most) until the bare view answers quickly: requests the last run left in
    the listen queue would otherwise be served at the start of the next run."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        started = time.monotonic()
        http("GET", base_url + "/bench/bare/")
        if time.monotonic() - started < 0.02:
            return
        time.sleep(0.2)


def warm_up(base_url: str, requests: list[tuple[str, str, dict[str, str], str | None]]) -> list:
    """Sends the requests from 8 threads at once, so every worker imports and compiles what
    the paths use before the clock runs; returns the statuses."""
    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(lambda r: http(r[0], base_url + r[1], r[2], r[3])[0], requests))


# the mode's run


def run_mode(args: argparse.Namespace) -> None:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # so the finally below runs
    redis = args.child == "redis"
    port = free_port()
    workdir = Path(args.tmp) / args.child
    workdir.mkdir(parents=True, exist_ok=True)
    configure_environment(args, port, redis)
    log(f"{args.child}: recreating database {args.db_name}")
    recreate_database(args.pg, args.db_name)
    if redis:
        flush_redis()
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, connections

    server = None
    gunicorn_log = workdir / "gunicorn.log"
    try:
        from tests.benchmarks.bench_urls import WRITE_TABLE  # imports the project's URLs

        log("migrating")
        call_command("migrate", interactive=False, verbosity=0)
        if not redis:
            call_command("createcachetable", verbosity=0)
        if not (Path(os.environ["STATIC_ROOT"]) / "staticfiles.json").exists():
            log("collecting static files (the manifest storage needs them with DEBUG off)")
            call_command("collectstatic", interactive=False, verbosity=0)
        with connection.cursor() as cursor:
            cursor.execute(
                f"CREATE TABLE {WRITE_TABLE} "
                "(id bigserial PRIMARY KEY, created_at timestamptz NOT NULL DEFAULT now())"
            )
        data = seed(args)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")  # planner statistics for the freshly seeded tables
        sql = measure_all(data)
        if args.show_sql:
            for key, count in sql.items():
                log(f"{key}: {count.statements} statements, {count.commits} commits")
                for statement in count.sql:
                    print(f"    {statement[:160]}", file=sys.stderr)

        base_url = f"http://127.0.0.1:{port}"
        log(f"starting gunicorn ({GUNICORN_WORKERS} sync workers) on {base_url}")
        server = start_gunicorn(port, gunicorn_log)
        wait_until_serving(server, base_url, gunicorn_log)
        rows = run_loads(args, data, sql, base_url, server.pid, workdir)
    finally:
        stop_gunicorn(server)
        connections.close_all()
        if gunicorn_log.exists():
            errors = [line for line in gunicorn_log.read_text().splitlines() if "ERROR" in line]
            if errors:
                log(
                    f"gunicorn logged {len(errors)} errors; the last ones:\n"
                    + "\n".join(errors[-5:])
                )
        if not args.keep_db:
            recreate_database(args.pg, args.db_name, create=False)
        if redis:
            flush_redis()
    Path(args.results).write_text(json.dumps({"mode": args.child, "rows": rows}))


def run_loads(
    args: argparse.Namespace,
    data: Seed,
    sql: dict[str, SqlCount],
    base_url: str,
    gunicorn_group: int,
    workdir: Path,
) -> list[dict]:
    conns, duration = args.connections, args.duration
    bearer = [{"Authorization": f"Bearer {key}"} for key in data.api_keys]
    json_type = {"Content-Type": "application/json"}
    submit_body = json.dumps(SUBMIT_BODY)
    card_headers = {**HTMX, "Cookie": session_cookie(data.web_client)}
    notes: dict[str, list[str]] = {load_key: [] for load_key in sql}

    # The card poll sends back a validator when the endpoint gives one (a 304 then answers).
    status, headers = http("GET", base_url + card_path(data.card_generation), card_headers)
    sent = {ask: headers[got] for got, ask in VALIDATORS.items() if got in headers}
    card_headers.update(sent)
    notes["card"].append(
        f"sends {', '.join(sent)} from a first GET" if sent else "no ETag/Last-Modified: full GET"
    )
    if status != 200:
        notes["card"].append(f"first GET answered {status}")

    loads = [
        Load("bare", "bare JSON view `GET /bench/bare/`", "GET", "/bench/bare/", conns),
        Load("write", "one INSERT + COMMIT `POST /bench/write/`", "POST", "/bench/write/", conns),
        Load(
            "credits",
            "API balance `GET /api/v1/credits/` (API key)",
            "GET",
            "/api/v1/credits/",
            conns,
            rotate=bearer,
        ),
        Load(
            "submit",
            f"API submit `POST /api/v1/generations/` ({API_USERS} users)",
            "POST",
            "/api/v1/generations/",
            conns,
            headers=json_type,
            body=submit_body,
            rotate=bearer,
        ),
        Load(
            "progress",
            "webhook, progress `logs` event (processing)",
            "POST",
            "/api/webhooks/replicate",
            conns,
            headers=json_type,
        ),
        Load(
            "terminal",
            "webhook, terminal `failed` event (refund)",
            "POST",
            "/api/webhooks/replicate",
            conns,
            headers=json_type,
        ),
        Load(
            "card",
            "card poll `GET /generations/<id>/card/` (HTMX, session)",
            "GET",
            card_path(data.card_generation),
            conns,
            headers=card_headers,
        ),
        *(
            Load(
                f"history-{size}",
                f"history page `GET /history/`, {size:,} generations",
                "GET",
                "/history/",
                args.history_connections,
                headers={"Cookie": session_cookie(client)},
            )
            for size, client in data.history_clients.items()
        ),
    ]

    log("warming up the workers")
    warm = in_flight_generations(data.pool_users[:1], 1, "warm-up")[0]
    for load in loads:
        if load.key == "terminal":
            continue  # every terminal delivery needs a generation of its own; progress warms it
        requests: list[tuple[str, str, dict[str, str], str | None]] = []
        for n in range(16):
            headers = {**load.headers, **load.rotate[n % len(load.rotate)]}
            if load.key == "progress":
                body = progress_body(warm[1], n + 1)
                requests.append(
                    ("POST", WEBHOOK_PATH.format(warm[0]), headers | signed_headers(body), body)
                )
            else:
                requests.append((load.method, load.path, headers, load.body))
        statuses = warm_up(base_url, requests)
        if any(not (200 <= s < 300 or s == 304) for s in statuses):
            notes[load.key].append(f"warm-up statuses {sorted(set(statuses))}")

    results: dict[str, WrkResult] = {}
    for load in loads:
        if load.key == "progress":
            # Enough deliveries for the run at the one-commit view's rate (no write path is
            # faster), spread over many generations, each one's progress rising event by event.
            size = max(1000, math.ceil(results["write"].rps * duration * 1.2))
            generations = in_flight_generations(
                data.pool_users, max(64, math.ceil(size / 99)), "progress pool"
            )
            steps = min(99, math.ceil(size / len(generations)))
            deliveries = [
                (WEBHOOK_PATH.format(pk), progress_body(prediction_id, percent))
                for percent in range(1, steps + 1)
                for pk, prediction_id in generations
            ]
            load.pool = write_pool(deliveries, workdir / "progress.pool")
            notes["progress"].append(
                f"{len(deliveries):,} distinct signed events over {len(generations)} generations"
            )
        if load.key == "terminal":
            # A refund does about what a submission does (lock the balance, write the ledger):
            # three times the submission rate is ample, and a shortfall is reported, not hidden.
            size = min(args.max_pool, math.ceil(results["submit"].rps * duration * 3) + 200)
            log(f"making {size:,} in-flight generations for the terminal webhooks")
            generations = in_flight_generations(data.pool_users, size, "terminal pool")
            deliveries = [(WEBHOOK_PATH.format(pk), failed_body(p)) for pk, p in generations]
            load.pool = write_pool(deliveries, workdir / "terminal.pool")
            notes["terminal"].append(f"{len(deliveries):,} generations, one delivery each")
        settle(base_url)
        log(f"wrk -c{load.connections} -d{duration}s: {load.label}")
        with CpuWatch(gunicorn_group, args.db_name) as cpu:
            result = run_wrk(load, base_url, duration, workdir)
        results[load.key] = result
        if cpu.other_cpus >= OTHERS_NOTICEABLE:
            notes[load.key].append(
                f"other processes used {cpu.other_cpus:.1f} of the {os.cpu_count()} CPUs"
                " during the run (figures low)"
            )
        if load.pool and result.repeats:
            notes[load.key].append(
                f"pool ran out: the last {result.repeats:,} requests repeated earlier webhook"
                " deliveries (same webhook ids)"
            )
        if result.outcomes:
            answers = ", ".join(
                f"{n:,} {outcome}" for outcome, n in sorted(result.outcomes.items())
            )
            notes[load.key].append(f"answers under load: {answers}")
        log(
            f"  {result.rps:,.0f} req/s, p50 {result.p50_ms:.1f} ms, p99 {result.p99_ms:.1f} ms,"
            f" statuses {result.statuses}, failures {result.failures()}"
        )

    rows = []
    for load in loads:
        result, count = results[load.key], sql[load.key]
        if not (200 <= count.status < 300 or count.status == 304):
            notes[load.key].append(f"the in-process request answered {count.status}")
        if count.outcome:
            notes[load.key].append(f"the in-process request's answer: {count.outcome}")
        if count.status == 304:
            notes[load.key].append("SQL counted on the 304 answer")
        rows.append(
            {
                "key": load.key,
                "label": load.label,
                "connections": load.connections,
                "rps": result.rps,
                "p50_ms": result.p50_ms,
                "p99_ms": result.p99_ms,
                "requests": result.requests,
                "failures": result.failures(),
                "statements": count.statements,
                "commits": count.commits,
                "note": "; ".join(notes[load.key]),
            }
        )
    return rows


# --------------------------------------------------------------------------------------------
# The parent: checks, one child per mode, the table


def table(mode: str, rows: list[dict]) -> str:
    title = {
        "db": "Database cache (no Redis)",
        "redis": "Redis cache (`REDIS_URL`)",
    }[mode]
    by_key = {row["key"]: row for row in rows}
    bare, write = by_key["bare"]["rps"], by_key["write"]["rps"]
    lines = [
        f"### {title}",
        "",
        "| path | conns | req/s | p50 ms | p99 ms | vs bare | vs 1-commit | SQL/req | COMMITs/req "
        "| non-2xx/304 |",
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|---|",
    ]
    for row in rows:
        lines.append(
            f"| {row['label']} | {row['connections']} | {row['rps']:,.0f} | {row['p50_ms']:.1f} "
            f"| {row['p99_ms']:.1f} | {row['rps'] / bare:.2f} | {row['rps'] / write:.2f} "
            f"| {row['statements']} | {row['commits']} | {row['failures']} |"
        )
    notes = [f"- {row['label']}: {row['note']}" for row in rows if row["note"]]
    if notes:
        lines += ["", *notes]
    return "\n".join(lines)


def preflight(args: argparse.Namespace, modes: list[str]) -> tuple[list[str], dict[str, str]]:
    """Checks the tools and services; returns the modes that can run and the versions."""
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed. Install it with: apt-get install -y wrk")
    import psycopg

    try:
        with psycopg.connect(f"{args.pg}/postgres", connect_timeout=3) as conn:
            server = (conn.execute("SHOW server_version").fetchone() or ("unknown",))[0]
    except psycopg.Error as error:
        sys.exit(
            f"PostgreSQL does not answer at {args.pg}: {error}\nStart it, e.g.: "
            "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start"
        )
    if "redis" in modes:
        try:
            socket.create_connection(("127.0.0.1", 6379), timeout=3).close()
        except OSError:
            if modes == ["redis"]:
                sys.exit(
                    "Redis does not answer on 127.0.0.1:6379 "
                    "(start it: redis-server --daemonize yes)"
                )
            log("Redis does not answer on 127.0.0.1:6379: running the database-cache mode only")
            modes = ["db"]
    wrk_version = subprocess.run(
        ["wrk", "-v"],  # noqa: S607 (found on PATH above)
        capture_output=True,
        text=True,
        timeout=10,
    )
    versions = {
        "python": sys.version.split()[0],
        "django": version("django"),
        "gunicorn": version("gunicorn"),
        "psycopg": version("psycopg"),
        "postgres": f"PostgreSQL {server}",
        "wrk": (wrk_version.stdout or wrk_version.stderr).split(" [")[0].strip(),
    }
    return modes, versions


def run_child(args: argparse.Namespace, mode: str, tmp: Path) -> dict[str, Any]:
    results = tmp / f"{mode}.json"
    command = [
        sys.executable,
        __file__,
        f"--duration={args.duration}",
        f"--connections={args.connections}",
        f"--history-connections={args.history_connections}",
        f"--pg={args.pg}",
        f"--db-name={args.db_name}",
        f"--redis-db={args.redis_db}",
        f"--max-pool={args.max_pool}",
        f"--child={mode}",
        f"--tmp={tmp}",
        f"--results={results}",
        *(["--keep-db"] if args.keep_db else []),
        *(["--show-sql"] if args.show_sql else []),
    ]
    child = subprocess.Popen(command, cwd=ROOT)  # noqa: S603 (this script)
    # Seeding, two pools and nine runs; far more than they take, but bounded.
    budget = 900 + 9 * (args.duration + 120)
    try:
        code = child.wait(timeout=budget)
    except subprocess.TimeoutExpired:
        child.terminate()  # its finally stops gunicorn and drops the database
        child.wait(timeout=60)
        raise RuntimeError(f"the {mode} run took more than {budget} s") from None
    if code != 0 or not results.exists():
        raise RuntimeError(f"the {mode} run failed (exit {code}); see the messages above")
    return json.loads(results.read_text())


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--both", dest="modes", action="store_const", const=["db", "redis"])
    which.add_argument("--redis", dest="modes", action="store_const", const=["redis"])
    which.add_argument("--no-redis", dest="modes", action="store_const", const=["db"])
    parser.set_defaults(modes=["db", "redis"])
    parser.add_argument("--duration", type=int, default=10, help="seconds per path (default 10)")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--history-connections", type=int, default=4)
    parser.add_argument("--pg", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--db-name", default="wan_pwa_bench")
    parser.add_argument("--redis-db", type=int, default=13, help="flushed before and after")
    parser.add_argument("--max-pool", type=int, default=40_000, help="terminal webhook pool cap")
    parser.add_argument("--keep-db", action="store_true", help="leave the database for a look")
    parser.add_argument(
        "--show-sql", action="store_true", help="print each path's counted statements to stderr"
    )
    parser.add_argument("--child", choices=["db", "redis"], help=argparse.SUPPRESS)
    parser.add_argument("--tmp", help=argparse.SUPPRESS)
    parser.add_argument("--results", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if not 1 <= args.duration <= MAX_DURATION:
        parser.error(f"--duration must be 1 to {MAX_DURATION} s (webhook signatures expire)")
    if args.db_name in {"postgres", "wan_pwa", "test_wan_pwa"}:
        parser.error("--db-name is dropped and recreated: choose a database of its own")
    return args


def main() -> None:
    args = parse_args()
    if args.child:
        run_mode(args)
        return
    modes, versions = preflight(args, args.modes)
    print(
        EXPLANATION.format(
            workers=GUNICORN_WORKERS,
            cpus=os.cpu_count(),
            threads=THREADS,
            conns=args.connections,
            history_conns=args.history_connections,
            duration=args.duration,
            others=OTHERS_NOTICEABLE,
            **versions,
        ),
        flush=True,
    )
    failed = False
    with tempfile.TemporaryDirectory(prefix="bench_http_") as tmp:
        for mode in modes:
            try:
                results = run_child(args, mode, Path(tmp))
                print(table(mode, results["rows"]) + "\n", flush=True)
            except RuntimeError as error:
                print(f"### {mode}: no figures ({error})\n", flush=True)
                failed = True
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
