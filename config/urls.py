from django.contrib import admin
from django.urls import include, path

from chronicle.security import ThrottledAdminLoginForm

admin.site.login_form = ThrottledAdminLoginForm
admin.site.site_header = "Chronicle"
admin.site.site_title = "Chronicle admin"
# The list of developments needs the page's width at 1280 px; the app list is one click away.
admin.site.enable_nav_sidebar = False

urlpatterns = [
    path("admin/two-factor/", include("chronicle.twofactor.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/subscriptions/", include("chronicle.digests.api_urls")),
    path("api/v1/webhooks/", include("chronicle.webhooks.api_urls")),
    path("api/", include("chronicle.api.urls")),
    path("feeds/", include("chronicle.feeds.urls")),
    path("exports/", include("chronicle.exports.urls")),
    path("", include("chronicle.digests.urls")),
    path("", include("chronicle.public.urls")),
]
