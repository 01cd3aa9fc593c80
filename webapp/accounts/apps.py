from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "webapp.accounts"
    label = "accounts"

    def ready(self):
        from webapp.accounts import signals  # noqa: F401 - connects the receivers
