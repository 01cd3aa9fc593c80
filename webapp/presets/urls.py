from django.urls import path

from webapp.presets import views

urlpatterns = [path("api/presets", views.presets)]
