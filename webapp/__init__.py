"""The Django project. The Celery app is loaded by webapp.ops when Django starts
(`celery -A webapp` finds webapp.celery itself); importing this package alone, as the
`descent` CLI does, loads neither Django nor Celery."""

__all__ = ("celery_app",)


def __getattr__(name: str):
    if name == "celery_app":
        from webapp.celery import app

        return app
    raise AttributeError(f"module 'webapp' has no attribute {name!r}")
