from django.apps import AppConfig


class SweepsConfig(AppConfig):
    name = "webapp.sweeps"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # a finished run frees a slot of its owner's sweeps (in the worker process)
        from webapp.sweeps import signals  # noqa: F401
