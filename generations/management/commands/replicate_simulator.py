"""`manage.py replicate_simulator`: the local Replicate, in the foreground until stopped."""

from __future__ import annotations

import logging
import signal
import threading
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from generations.simulator import DEFAULT_WEBHOOK_SECRET, MARKERS, ReplicateSimulator


class Command(BaseCommand):
    help = (
        "Serves Replicate's HTTP API locally: predictions run for a few seconds, log progress, "
        "send signed webhooks and produce a real MP4. Prompt markers pick failure modes per "
        f"prediction: {', '.join(f'[{marker}]' for marker in MARKERS)} (create-429x2: twice)."
    )
    # It needs neither the database nor the app checks.
    requires_system_checks: list[str] = []
    requires_migrations_checks = False

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8001, help="0 picks a free port")
        parser.add_argument(
            "--public-url", help="origin for the URLs handed out, if not http://host:port"
        )
        parser.add_argument("--duration", type=float, default=4.0, help="seconds per prediction")
        parser.add_argument("--frames", type=int, default=40, help="frames per video, at 16 fps")
        parser.add_argument("--fail-rate", type=float, default=0.0, help="0..1")
        parser.add_argument("--no-webhooks", action="store_true")
        parser.add_argument("--duplicate-webhooks", action="store_true")
        parser.add_argument("--out-of-order", action="store_true")
        parser.add_argument(
            "--secret",
            help="whsec_ webhook signing secret "
            "(default: REPLICATE_WEBHOOK_SECRET, else the built-in one)",
        )
        parser.add_argument("--token", help="the only API token accepted (default: any)")

    def handle(self, *args: Any, **options: Any) -> None:
        self._log_to_stdout(options["verbosity"])
        secret = (
            options["secret"]
            or getattr(settings, "REPLICATE_WEBHOOK_SECRET", "")
            or DEFAULT_WEBHOOK_SECRET
        )
        try:
            simulator = ReplicateSimulator(
                host=options["host"],
                port=options["port"],
                public_url=options["public_url"],
                duration=options["duration"],
                frames=options["frames"],
                fail_rate=options["fail_rate"],
                no_webhooks=options["no_webhooks"],
                duplicate_webhooks=options["duplicate_webhooks"],
                out_of_order=options["out_of_order"],
                webhook_secret=secret,
                token=options["token"],
            ).start()
        except (ValueError, OSError) as error:
            raise CommandError(str(error)) from error

        stop = threading.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stop.set())
        self.stdout.write(f"Replicate simulator listening on {simulator.base_url}")
        self.stdout.write(f"Webhook secret: {simulator.webhook_secret}")
        self.stdout.flush()
        try:
            while not stop.wait(0.5):  # a timeout keeps the main thread responsive to signals
                pass
        finally:
            simulator.stop()
        self.stdout.write("Replicate simulator stopped.")

    def _log_to_stdout(self, verbosity: int) -> None:
        """Each request and webhook on stdout at the default verbosity; nothing at 0."""
        handler = logging.StreamHandler(self.stdout)
        handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%H:%M:%S"))
        logger = logging.getLogger("generations.simulator")
        logger.addHandler(handler)
        logger.setLevel(logging.INFO if verbosity >= 1 else logging.WARNING)
        logger.propagate = False
