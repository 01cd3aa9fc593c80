from django.urls import path

from webapp.lessons import views

urlpatterns = [path("lessons", views.lessons_page, name="lessons-page")]
