from django.urls import path

from .api import SubscriptionView

urlpatterns = [path("", SubscriptionView.as_view(), name="subscriptions")]
