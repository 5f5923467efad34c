from allauth.account.models import EmailAddress
from allauth.account.signals import email_confirmed
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Creates the demo user (once), verified and with the bonus, and prints how to log in."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--username", default="demo")
        parser.add_argument("--password", default="demo-password-123")

    def handle(self, *args, username: str, password: str, **options) -> None:
        User = get_user_model()
        user = User.objects.filter(username=username).first()
        if user is None:
            email = f"{username}@example.com"
            user = User.objects.create_user(username=username, email=email, password=password)
            # As if the demo user had followed the verification link: that grants the bonus.
            address = EmailAddress.objects.get(user=user)
            address.set_verified()
            email_confirmed.send(sender=EmailAddress, request=None, email_address=address)
            verb = "Created"
        else:
            user.set_password(password)
            user.save(update_fields=["password"])
            verb = "Reset the password of"
        self.stdout.write(
            self.style.SUCCESS(
                f"{verb} the demo user. Log in as {username} / {password} "
                f"({user.credit_balance.balance} credits)."
            )
        )
