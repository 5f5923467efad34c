from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Creates the demo user (once) with the sign-up bonus and prints how to log in."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--username", default="demo")
        parser.add_argument("--password", default="demo-password-123")

    def handle(self, *args, username: str, password: str, **options) -> None:
        User = get_user_model()
        user = User.objects.filter(username=username).first()
        if user is None:
            user = User.objects.create_user(
                username=username, email=f"{username}@example.com", password=password
            )
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
