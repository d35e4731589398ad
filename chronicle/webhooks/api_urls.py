from django.urls import path

from . import api

app_name = "webhooks"

urlpatterns = [
    path("", api.EndpointList.as_view(), name="endpoints"),
    path("<uuid:endpoint_id>/", api.EndpointDetail.as_view(), name="endpoint"),
    path("<uuid:endpoint_id>/replay/", api.EndpointReplay.as_view(), name="replay"),
]
