import json
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from generations import catalog
from generations.replicate import gateway
from generations.schema_check import ModelReport, broken_keys, check_catalog


class Command(BaseCommand):
    help = (
        "Compares what the catalog sends each Replicate model with the model's current input "
        "schema; exits non-zero on a breaking difference."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--model", metavar="KEY", help="check only this catalog model")
        parser.add_argument("--json", action="store_true", help="print the reports as JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        models = list(catalog.MODELS.values())
        if options["model"]:
            try:
                models = [catalog.get_model(options["model"])]
            except catalog.CatalogError as error:
                raise CommandError(str(error)) from None
        try:
            reports = check_catalog(models)
        except gateway.GatewayError as error:
            raise CommandError(f"Could not check the models: {error}") from None
        broken = broken_keys(reports)
        if options["json"]:
            self.stdout.write(json.dumps([vars(report) for report in reports], indent=2))
        else:
            for report in reports:
                self._print(report)
            self.stdout.write(self._summary(reports, broken))
        if broken:
            raise CommandError(
                f"Breaking differences in {', '.join(broken)}: predictions of "
                f"{'these models' if len(broken) > 1 else 'this model'} may be refused."
            )

    def _print(self, report: ModelReport) -> None:
        version = f" version {report.version[:12]}" if report.version else ""
        name = f"{report.key} ({report.replicate_model}{version})"
        if report.breaking:
            self.stdout.write(self.style.ERROR(f"{name}: {len(report.breaking)} breaking"))
        else:
            self.stdout.write(self.style.SUCCESS(f"{name}: matches what we send"))
        for line in report.breaking:
            self.stdout.write(f"  BREAKING: {line}")
        for line in report.notes:
            self.stdout.write(f"  note: {line}")

    def _summary(self, reports: list[ModelReport], broken: list[str]) -> str:
        keys = {report.key for report in reports}
        summary = (
            f"Checked {len(reports)} Replicate models behind {len(keys)} catalog models: "
            f"{len(keys) - len(broken)} match, {len(broken)} with breaking differences."
        )
        if broken:
            disabled = sorted({*settings.DISABLED_MODELS, *broken})
            summary += (
                " Until the catalog is fixed, turn them off: "
                f"DISABLED_MODELS={','.join(disabled)} (then restart)."
            )
        return summary
