from django.urls import path

from webapp.uploads import views

urlpatterns = [path("api/uploads", views.upload)]
