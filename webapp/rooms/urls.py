from django.urls import path

from webapp.rooms import views

urlpatterns = [
    path("room", views.room_start, name="room-start"),
    path("room/<str:code>", views.room_page, name="room-page"),
    path("api/rooms", views.rooms),
    path("api/rooms/current", views.room_current),  # before <code>: "current" is never a code
    path("api/rooms/<str:code>", views.room_detail),
    path("api/rooms/<str:code>/join", views.room_join),
    path("api/rooms/<str:code>/me", views.room_me),
    path("api/rooms/<str:code>/push", views.room_push),
    path("api/rooms/<str:code>/lock", views.room_lock),
    path("api/rooms/<str:code>/spotlight", views.room_spotlight),
    path("api/rooms/<str:code>/close", views.room_close),
]
