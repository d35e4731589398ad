from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from . import views

app_name = "api"

urlpatterns = [
    path("v1/developments/", views.DevelopmentList.as_view(), name="development-list"),
    path("v1/developments/<str:identifier>/", views.DevelopmentDetail.as_view(), name="development-detail"),
    path("v1/developments/<str:identifier>/history/", views.DevelopmentHistory.as_view(), name="development-history"),
    path("v1/developments/<str:identifier>/timemap/", views.DevelopmentTimeMap.as_view(), name="development-timemap"),
    path("v1/timeline.json", views.Timeline.as_view(), name="timeline"),
    path("v1/events/", views.PublicEvents.as_view(), name="event-list"),
    path("v1/events/head/", views.LogHead.as_view(), name="event-head"),
    path("v1/topics/", views.Topics.as_view(), name="topic-list"),
    path("v1/countries/", views.Countries.as_view(), name="country-list"),
    path("v1/actors/", views.Actors.as_view(), name="actor-list"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves its start-up script as a file, as the content security policy requires.
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema"), name="docs"),
    re_path(r"^.*$", views.unknown_address),
]
