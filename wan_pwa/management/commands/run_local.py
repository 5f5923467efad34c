"""`make run`: the web server, the task worker and, without a Replicate token, the simulator."""

from __future__ import annotations

import base64
import os
import secrets
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management.base import BaseCommand


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
