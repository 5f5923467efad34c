"""Three monthly plans to start with, cheaper per credit than the packs (5, 4 and 3.5 cents);
staff change them in the admin."""

from django.db import migrations

DEFAULT_PLANS = [
    ("Starter", 200, 800, 1),
    ("Pro", 800, 2500, 2),
    ("Studio", 3000, 8000, 3),
]


def create_plans(apps, schema_editor):
    Plan = apps.get_model("credits", "Plan")
    if Plan.objects.exists():
        return
    for name, credits, price, position in DEFAULT_PLANS:
        Plan.objects.create(
            name=name, credits=credits, price=price, currency="usd", position=position
        )


class Migration(migrations.Migration):
    dependencies = [("credits", "0013_plans_and_subscriptions")]

    operations = [migrations.RunPython(create_plans, migrations.RunPython.noop)]
