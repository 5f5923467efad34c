from django.apps import AppConfig


class WanPwaConfig(AppConfig):
    name = "wan_pwa"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from wan_pwa import checks  # noqa: F401  (registers the deployment checks)
