"""Three packs to start selling with; staff change them in the admin."""

from django.db import migrations

DEFAULT_PACKS = [
    ("Starter", 100, 500, 1),
    ("Creator", 500, 2000, 2),
    ("Studio", 2000, 7000, 3),
]


def create_packs(apps, schema_editor):
    CreditPack = apps.get_model("credits", "CreditPack")
    if CreditPack.objects.exists():
        return
    for name, credits, price, position in DEFAULT_PACKS:
        CreditPack.objects.create(
            name=name, credits=credits, price=price, currency="usd", position=position
        )


class Migration(migrations.Migration):
    dependencies = [("credits", "0004_credit_packs_and_orders")]

    operations = [migrations.RunPython(create_packs, migrations.RunPython.noop)]
