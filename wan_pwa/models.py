# Django looks for the app's models here; they live in the accounts room. Migration 0001 refers to
# the manager by this module's path.
from wan_pwa.accounts.models import ApiKey, User, WanUserManager  # noqa: F401
