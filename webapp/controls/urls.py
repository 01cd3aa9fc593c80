from django.urls import path

from webapp.controls import views

urlpatterns = [path("api/runs/<str:public_id>/control", views.control)]
