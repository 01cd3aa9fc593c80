from django.http import JsonResponse

from webapp.presets.presets import PRESETS
from webapp.runs.api import api


@api("GET")
def presets(request):
    return JsonResponse(PRESETS, safe=False)
