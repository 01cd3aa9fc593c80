from django.apps import AppConfig


class SweepsConfig(AppConfig):
    name = "webapp.sweeps"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # a finished run frees a slot of its owner's sweeps (in the worker process)
        # and a sweep's viewers follow its runs' status and epoch events (webapp/sweeps/live.py)
        from webapp.sweeps import signals  # noqa: F401
