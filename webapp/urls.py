from django.contrib import admin
from django.urls import include, path

from webapp import openapi
from webapp.data_preview import data_preview
from webapp.runs.views import healthz  # database, Redis, last worker heartbeat

# JSON under /api/, Django's pages elsewhere (webapp.errors)
handler400 = "webapp.errors.handler400"
handler403 = "webapp.errors.handler403"
handler404 = "webapp.errors.handler404"
handler500 = "webapp.errors.handler500"

urlpatterns = [
    path("healthz", healthz),
    path("api/openapi.json", openapi.view),
    path("admin/", admin.site.urls),
    path("", include("webapp.accounts.urls")),
    path("api/data/preview", data_preview),
    path("", include("webapp.presets.urls")),
    path("", include("webapp.uploads.urls")),
    path("", include("webapp.controls.urls")),  # before runs: /api/runs/<id>/control
    path("", include("webapp.compare.urls")),  # /runs, /compare
    path("", include("webapp.lessons.urls")),  # /lessons
    path("", include("webapp.runs.urls")),
    path("", include("webapp.sweeps.urls")),
    path("", include("webapp.rooms.urls")),
]
