from django.urls import path

from webapp.sweeps import views

urlpatterns = [
    path("s/<str:public_id>", views.sweep_page, name="sweep-page"),
    path("api/sweeps", views.sweeps),
    path("api/sweeps/lessons", views.sweep_lessons),
    path("api/sweeps/<str:public_id>", views.sweep_detail),
    path("api/sweeps/<str:public_id>/cancel", views.sweep_cancel),
    path("api/sweeps/<str:public_id>/export/csv", views.sweep_csv),
]
