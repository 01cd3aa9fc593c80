"""Django admin for runs: find, inspect, stop, pin or delete them."""

from django.contrib import admin, messages

from webapp.runs.models import Event, Run


@admin.register(Run)
class RunAdmin(admin.ModelAdmin):
    list_display = ("public_id", "name", "status", "owner_user", "device", "created", "finished", "last_seq")
    list_filter = ("status", "device", "created")
    search_fields = ("public_id", "name", "owner_session", "owner_user__username", "error")
    readonly_fields = ("public_id", "spec", "summary", "last_seq", "created", "started", "finished", "worker", "parent",
                       "status", "error")
    raw_id_fields = ("owner_user",)
    date_hierarchy = "created"
    actions = ["request_stop"]

    @admin.action(description="Stop the selected runs (queued ones end at once)")
    def request_stop(self, request, queryset):
        from webapp.runs.services import cancel_run

        stopped = 0
        for run in queryset.filter(status__in=("queued", "running")):
            cancel_run(run)
            stopped += 1
        self.message_user(request, f"asked {stopped} run(s) to stop", messages.SUCCESS)


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    list_display = ("run", "seq", "type")
    list_filter = ("type",)
    search_fields = ("run__public_id",)
    raw_id_fields = ("run",)
    readonly_fields = ("run", "seq", "type", "payload")
