from django.urls import path

from . import views

app_name = "exports"

urlpatterns = [
    path("latest/", views.latest, name="latest"),
    path("latest/<str:name>", views.latest, name="latest-file"),
]
