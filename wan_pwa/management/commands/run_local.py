"""`make run`: the web server, the task worker and, without a Replicate token, the simulator."""

from __future__ import annotations

import base64
import io
import os
import secrets
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

VAPID_FILE = "vapid.env"


def local_vapid_keys() -> dict[str, str]:
    """The VAPID pair `make run` gives its processes when none is configured: made once by
    `webpush_keys` and kept in DATA_DIR, so browsers' push subscriptions outlive a restart."""
    path = settings.DATA_DIR / VAPID_FILE
    if not path.exists():
        printed = io.StringIO()
        call_command("webpush_keys", stdout=printed)
        path.parent.mkdir(parents=True, exist_ok=True)
        # Only the owner may read a private key.
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as file:
            file.write(printed.getvalue())
    lines = (line.split("=", 1) for line in path.read_text().split())
    return {name: value for name, value in lines if name.startswith("WEBPUSH_VAPID_")}


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


class Command(BaseCommand):
    help = (
        "Runs web server, task worker and the Replicate and Stripe simulators (without "
        "REPLICATE_API_TOKEN / STRIPE_SECRET_KEY)."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--simulator-port", type=int, default=8001)
        parser.add_argument("--stripe-simulator-port", type=int, default=8002)

    def handle(
        self, *args, port: int, simulator_port: int, stripe_simulator_port: int, **options
    ) -> None:
        env = os.environ.copy()
        # localhost, not 127.0.0.1: passkeys need a host name (WebAuthn refuses IP addresses),
        # and plain http is allowed for passkeys on this development machine only.
        env.setdefault("SITE_URL", f"http://localhost:{port}")
        env.setdefault("MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN", "true")
        manage = [sys.executable, str(settings.BASE_DIR / "manage.py")]
        commands: dict[str, list[str]] = {}
        if not settings.REPLICATE_API_TOKEN:
            secret = "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()
            env.update(
                REPLICATE_API_TOKEN="local-simulator-token",  # noqa: S106 (the simulator accepts any)
                REPLICATE_BASE_URL=f"http://127.0.0.1:{simulator_port}",
                REPLICATE_WEBHOOK_SECRET=secret,
            )
            commands["simulator"] = [
                *manage,
                "replicate_simulator",
                "--port",
                str(simulator_port),
                "--secret",
                secret,
            ]
            self.stdout.write(
                f"No REPLICATE_API_TOKEN: using the local simulator on :{simulator_port}"
            )
        if not settings.STRIPE_SECRET_KEY:
            stripe_secret = "whsec_" + secrets.token_hex(24)
            env.update(
                STRIPE_SECRET_KEY="sk_test_local_simulator",  # noqa: S106 (the simulator's)
                STRIPE_API_BASE=f"http://127.0.0.1:{stripe_simulator_port}",
                STRIPE_WEBHOOK_SECRET=stripe_secret,
            )
            commands["stripe"] = [
                *manage,
                "stripe_simulator",
                "serve",
                "--port",
                str(stripe_simulator_port),
                "--secret",
                stripe_secret,
                "--webhook-url",
                f"{env['SITE_URL']}/api/webhooks/stripe",
            ]
            self.stdout.write(
                f"No STRIPE_SECRET_KEY: using the local Stripe simulator on "
                f":{stripe_simulator_port} (pay with 4242 4242 4242 4242)"
            )
        if not (settings.WEBPUSH_VAPID_PUBLIC_KEY and settings.WEBPUSH_VAPID_PRIVATE_KEY):
            env.update(local_vapid_keys())
            self.stdout.write(
                f"No WEBPUSH_VAPID_* keys: using the local pair in {settings.DATA_DIR / VAPID_FILE}"
            )
        commands["worker"] = [*manage, "run_worker", "--no-reload", "--interval", "0.5"]
        commands["web"] = [*manage, "runserver", f"127.0.0.1:{port}"]

        processes = {
            name: subprocess.Popen(cmd, env=env)  # noqa: S603 (our own commands)
            for name, cmd in commands.items()
        }
        self.stdout.write(self.style.SUCCESS(f"Wan PWA is running on {env['SITE_URL']}/"))
        signal.signal(signal.SIGTERM, _interrupt)
        try:
            while all(process.poll() is None for process in processes.values()):
                time.sleep(0.5)
            stopped = [name for name, process in processes.items() if process.poll() is not None]
            self.stderr.write(f"{', '.join(stopped)} stopped; shutting the others down.")
        except KeyboardInterrupt:
            pass
        finally:
            for process in processes.values():
                if process.poll() is None:
                    process.terminate()
            for process in processes.values():
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
