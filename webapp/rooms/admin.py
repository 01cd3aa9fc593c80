from django.contrib import admin

from webapp.rooms.models import Member, Room


class MemberInline(admin.TabularInline):
    model = Member
    fields = ("name", "joined")
    readonly_fields = fields
    extra = 0


@admin.register(Room)
class RoomAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "created", "closed", "locked")
    list_filter = ("closed", "locked")
    search_fields = ("code", "name")
    readonly_fields = ("code", "teacher_key", "created", "lesson", "push_seq")
    raw_id_fields = ("spotlight",)
    inlines = [MemberInline]
