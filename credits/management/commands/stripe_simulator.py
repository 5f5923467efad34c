"""`manage.py stripe_simulator`: serve the local Stripe, or tell a running one to refund,
dispute, settle a dispute, or renew a subscription as if its period had ended."""

from __future__ import annotations

import signal
import threading

import httpx
from django.core.management.base import BaseCommand, CommandError, CommandParser

from credits.simulator import StripeSimulator
from credits.simulator.delivery import DeliveryOptions


class Command(BaseCommand):
    help = (
        "Runs the local Stripe simulator (serve), or asks a running one to refund a payment "
        "(refund pi_...|ch_... [--amount CENTS]), dispute it (dispute pi_...|ch_...) or close "
        "a dispute (win dp_... / lose dp_...), or move a subscription to the end of its "
        "period (advance sub_...): it renews, charging the saved card, or ends if canceled."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "action", choices=["serve", "refund", "dispute", "win", "lose", "advance"]
        )
        parser.add_argument(
            "target",
            nargs="?",
            help="the payment (pi_..., shown on the order), charge (ch_...), dispute (dp_...) "
            "or subscription (sub_..., shown in the admin's subscriptions)",
        )
        parser.add_argument("--port", type=int, default=8002)
        parser.add_argument("--secret", help="the webhook signing secret (whsec_...)")
        parser.add_argument("--webhook-url", help="where events are POSTed, signed")
        parser.add_argument("--amount", type=int, help="refund this many cents (default: all)")
        parser.add_argument("--duplicate", action="store_true", help="send every event twice")
        parser.add_argument("--reorder", action="store_true", help="send events newest first")
        parser.add_argument("--fail-first", type=int, default=0, help="fail N deliveries first")
        parser.add_argument("--async-delay", type=float, default=3.0)

    def handle(self, *args, action: str, target: str | None, port: int, **options) -> None:
        if action == "serve":
            self._serve(port, options)
            return
        if not target:
            raise CommandError(
                f"{action} needs the id of a charge (ch_...), dispute (dp_...) or "
                "subscription (sub_...)."
            )
        path = {
            "refund": f"/_sim/charges/{target}/refund",
            "dispute": f"/_sim/charges/{target}/dispute",
            "win": f"/_sim/disputes/{target}/won",
            "lose": f"/_sim/disputes/{target}/lost",
            "advance": f"/_sim/subscriptions/{target}/advance",
        }[action]
        data = {"amount": str(options["amount"])} if options["amount"] else {}
        try:
            response = httpx.post(f"http://127.0.0.1:{port}{path}", data=data, timeout=10)
        except httpx.HTTPError as error:
            raise CommandError(f"The simulator on :{port} does not answer: {error}") from None
        if response.is_error:
            raise CommandError(response.json()["error"]["message"])
        result = response.json()
        self.stdout.write(f"{result['object']} {result['id']}: {result.get('status', '')}")

    def _serve(self, port: int, options: dict) -> None:
        if not options["secret"] or not options["webhook_url"]:
            raise CommandError("serve needs --secret and --webhook-url.")
        simulator = StripeSimulator(
            secret=options["secret"],
            webhook_url=options["webhook_url"],
            port=port,
            async_delay=options["async_delay"],
            options=DeliveryOptions(
                duplicate=options["duplicate"],
                reorder=options["reorder"],
                fail_first=options["fail_first"],
            ),
        ).start()
        self.stdout.write(
            f"Stripe simulator on {simulator.base_url}, webhooks to {options['webhook_url']}"
        )
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        try:
            stop.wait()
        except KeyboardInterrupt:
            pass
        finally:
            simulator.stop()
