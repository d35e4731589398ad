from django.contrib import admin
from django.urls import path

from . import views

app_name = "two_factor"

urlpatterns = [
    path("", admin.site.admin_view(views.overview), name="overview"),
    path("code/", admin.site.admin_view(views.verify), name="verify"),
    path("set-up/", admin.site.admin_view(views.set_up), name="set_up"),
    path("backup-codes/", admin.site.admin_view(views.new_backup_codes), name="backup_codes"),
]
