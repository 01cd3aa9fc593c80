from django.urls import path

from webapp.runs import views
from webapp.runs.csv_export import run_export_csv
from webapp.runs.exports import run_export_onnx, run_export_weights

urlpatterns = [
    path("", views.playground, name="playground"),
    path("r/<str:public_id>", views.run_page, name="run-page"),
    path("api/spec/schema", views.spec_schema),
    path("api/spec/validate", views.spec_validate),
    path("api/events/schema", views.events_schema),
    path("api/runs", views.runs),
    path("api/runs/<str:public_id>", views.run_detail),
    path("api/runs/<str:public_id>/events", views.run_events),
    path("api/runs/<str:public_id>/cancel", views.run_cancel),
    path("api/runs/<str:public_id>/fork", views.run_fork),
    path("api/runs/<str:public_id>/export/script", views.run_export_script),
    path("api/runs/<str:public_id>/export/weights", run_export_weights),
    path("api/runs/<str:public_id>/export/onnx", run_export_onnx),
    path("api/runs/<str:public_id>/export/csv", run_export_csv),
]
