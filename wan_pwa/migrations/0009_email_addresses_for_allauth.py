from django.db import migrations


def add_email_addresses(apps, schema_editor):
    """Every existing user's e-mail becomes allauth's primary, verified address.

    Verified, because these accounts were made before verification existed and have used their
    address for resets all along: left unverified, log-in by e-mail and password resets (which
    prefer verified addresses) would treat them as strangers, and since sign-ups may now reuse
    an unverified address (ACCOUNT_PREVENT_ENUMERATION = "strict"), a newcomer could verify it
    first and take it over. The constraint on User.email made them unique, so none conflict.
    """
    User = apps.get_model("wan_pwa", "User")
    EmailAddress = apps.get_model("account", "EmailAddress")
    EmailAddress.objects.bulk_create(
        [
            EmailAddress(user_id=pk, email=email.lower(), verified=True, primary=True)
            for pk, email in User.objects.exclude(email="").values_list("pk", "email")
        ],
        batch_size=1000,
        ignore_conflicts=True,
    )


class Migration(migrations.Migration):

    dependencies = [
        ("wan_pwa", "0008_user_deletion"),
        ("account", "0009_emailaddress_unique_primary_email"),
    ]

    operations = [
        migrations.RunPython(add_email_addresses, migrations.RunPython.noop),
        # allauth keeps verified addresses unique; two accounts may share an unverified one.
        migrations.RemoveConstraint(
            model_name="user",
            name="user_email_unique_ci",
        ),
    ]
