from django.apps import AppConfig


class RunsConfig(AppConfig):
    name = "webapp.runs"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # the worker warms up at start (a signal handler; the web process never sends it)
        from webapp.runs import exports, warmup  # noqa: F401  (exports: deleting a run deletes its weights)
