from django.contrib import admin

from webapp.uploads.models import Upload


@admin.register(Upload)
class UploadAdmin(admin.ModelAdmin):
    list_display = ("public_id", "filename", "owner_session", "created")
    search_fields = ("public_id", "filename", "owner_session")
    readonly_fields = ("public_id", "meta", "created")
