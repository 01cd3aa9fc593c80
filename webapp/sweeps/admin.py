from django.contrib import admin

from webapp.sweeps.models import Sweep, SweepRun


class SweepRunInline(admin.TabularInline):
    model = SweepRun
    fields = ("index", "run", "point", "repeat", "values", "dispatched", "final", "best")
    readonly_fields = fields
    raw_id_fields = ("run",)
    extra = 0
    can_delete = False


@admin.register(Sweep)
class SweepAdmin(admin.ModelAdmin):
    list_display = ("public_id", "name", "method", "metric", "owner_user", "created")
    list_filter = ("method", "created")
    search_fields = ("public_id", "name", "owner_session", "owner_user__username")
    readonly_fields = ("public_id", "axes", "base_spec", "created")
    raw_id_fields = ("owner_user",)
    inlines = [SweepRunInline]
