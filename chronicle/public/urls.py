from django.urls import path

from . import views

app_name = "public"
urlpatterns = [
    path("", views.timeline, name="timeline"),
    path("favicon.ico", views.favicon, name="favicon"),
    path("developments/<slug:slug>/", views.development_page, name="development"),
    path("developments/<slug:slug>/timemap/", views.timemap, name="timemap"),
    *(
        path(
            f"developments/<slug:slug>/cite.{extension}", views.cite, {"extension": extension}, name=f"cite-{extension}"
        )
        for extension in ("bib", "ris", "json")
    ),
]
