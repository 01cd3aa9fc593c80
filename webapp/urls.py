from django.http import JsonResponse
from django.urls import include, path


def healthz(request):
    return JsonResponse({"ok": True})


urlpatterns = [
    path("healthz", healthz),
    path("", include("webapp.presets.urls")),
    path("", include("webapp.uploads.urls")),
    path("", include("webapp.runs.urls")),
]
