from django.apps import AppConfig


class RoomsConfig(AppConfig):
    name = "webapp.rooms"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # runs of a room's students are tagged (and checked against locked fields) as they are created
        from webapp.rooms import signals  # noqa: F401
