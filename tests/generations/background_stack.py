"""Real processes for the background tests: `run_worker`s (optionally with crash points, see
crashing_worker.py) and a web server, all on 127.0.0.1 against the test database, plus the
conditions those tests wait for."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

from django.conf import settings
from django.db import connection
from django_tasks_db.models import DBTaskResult

from generations.models import Generation
from tests.waiting import wait_until

ROOT = Path(__file__).resolve().parents[2]
CRASHING_WORKER = ROOT / "tests" / "generations" / "crashing_worker.py"
# Short enough that a dead worker's task is back in about two seconds.
FAST_BACKGROUND = {
    "WORKER_HEARTBEAT_INTERVAL": "0.2",
    "WORKER_LEASE": "1.5",
    "SUBMIT_RETRY_DELAY": "1",
    "SUBMIT_RETRY_MAX_DELAY": "2",
    "WATCHDOG_FIRST_DELAY": "1",
    "WATCHDOG_MAX_DELAY": "2",
    "WATCHDOG_MAX_ATTEMPTS": "60",
    "GENERATION_MAX_AGE": "120",
    "OUTPUT_COPY_RETRY_DELAY": "1",
    "RECONCILE_OLDER_THAN": "3",
    "PERIODIC_JOB_PERIODS": "reconcile_generations=2,audit_credits=5",
    "LOG_LEVEL": "WARNING",
}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def database_url() -> str:
    """The test database, as the child processes must reach it."""
    db = connection.settings_dict
    credentials = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{credentials}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"


class Stack:
    """Child processes sharing one environment; every one is stopped by `stop_all`."""

    def __init__(self, logs: Path, **environment: str) -> None:
        self.logs = logs
        logs.mkdir(parents=True, exist_ok=True)
        self.crash_dir = logs / "crashes"
        self.crash_dir.mkdir(exist_ok=True)
        self.web_port = free_port()
        self.env = {
            **os.environ,
            **FAST_BACKGROUND,
            "DATABASE_URL": database_url(),
            "MEDIA_ROOT": str(settings.MEDIA_ROOT),
            "SITE_URL": f"http://127.0.0.1:{self.web_port}",
            "ALLOWED_HOSTS": "127.0.0.1",
            "DEBUG": "false",
            "CRASH_DIR": str(self.crash_dir),
            **environment,
        }
        self.workers: dict[str, subprocess.Popen] = {}
        self.web: subprocess.Popen | None = None
        self.kills = 0
        self._started = 0

    def _spawn(self, name: str, command: list[str], **extra_env: str) -> subprocess.Popen:
        self._started += 1
        log = (self.logs / f"{self._started:03d}-{name}.log").open("wb")
        return subprocess.Popen(  # noqa: S603 (our own commands)
            command, cwd=ROOT, env={**self.env, **extra_env}, stdout=log, stderr=log
        )

    def start_worker(self, name: str, *, crash_at: str = "", crash_rate: float = 1.0) -> None:
        script = [str(CRASHING_WORKER)] if crash_at else [str(ROOT / "manage.py"), "run_worker"]
        command = [sys.executable, *script, "--no-reload", "--no-startup-delay"]
        command += ["--interval", "0.1", "--worker-id", f"{name}-{self._started + 1}"]
        self.workers[name] = self._spawn(
            name, command, CRASH_AT=crash_at, CRASH_RATE=str(crash_rate)
        )

    def kill_worker(self, name: str) -> None:
        process = self.workers.pop(name)
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
            self.kills += 1
        process.wait()

    def dead_workers(self) -> list[str]:
        return [name for name, process in self.workers.items() if process.poll() is not None]

    def start_web(self) -> None:
        command = [sys.executable, str(ROOT / "manage.py"), "runserver", "--noreload"]
        self.web = self._spawn("web", [*command, "--skip-checks", f"127.0.0.1:{self.web_port}"])
        wait_until(self._web_answers, timeout=20, what="the web server to answer")

    def _web_answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.web_port), timeout=0.2):
                return True
        except OSError:
            return False

    def stop_web(self) -> None:
        if self.web is not None:
            self.web.send_signal(signal.SIGKILL)
            self.web.wait()
            self.web = None

    def self_crashes(self) -> list[str]:
        return sorted(path.name for path in self.crash_dir.iterdir())

    def stop_all(self) -> None:
        for process in [*self.workers.values(), *([self.web] if self.web else [])]:
            if process.poll() is None:
                process.terminate()
        for process in [*self.workers.values(), *([self.web] if self.web else [])]:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self.workers.clear()
        self.web = None


def all_settled(generation_ids: list[int]) -> bool:
    """Every generation ended and no task row is left RUNNING."""
    in_flight = Generation.objects.filter(pk__in=generation_ids).in_flight().exists()
    return not in_flight and not DBTaskResult.objects.filter(status="RUNNING").exists()
