from django.urls import path

from . import views

app_name = "public"
urlpatterns = [
    path("", views.timeline, name="timeline"),
    path("developments/<slug:slug>/", views.development_page, name="development"),
    path("developments/<slug:slug>/timemap/", views.timemap, name="timemap"),
]
