from django.urls import path

from webapp.compare import views

urlpatterns = [
    path("runs", views.runs_page, name="runs-page"),
    path("compare", views.compare_page, name="compare-page"),
]
