from django.urls import re_path

from . import views

app_name = "feeds"
urlpatterns = [
    re_path(
        r"^(?P<path>all|countries/[a-z]{2}|topics/[a-z0-9-]+)\.(?P<extension>atom|rss|json)$",
        views.feed_file,
        name="file",
    ),
]
