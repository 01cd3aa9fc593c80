from django.apps import AppConfig


class OpsConfig(AppConfig):
    """Operations glue that needs Django to be set up first."""

    name = "webapp.ops"
    label = "ops"

    def ready(self):
        # Every Django process (web, worker, manage.py) loads the Celery app here, so that
        # @shared_task binds to it. webapp/__init__.py no longer imports it: the `descent`
        # CLI lives in this package and must start without Django or Celery.
        import webapp.celery  # noqa: F401
