from django.urls import path
from rest_framework.routers import DefaultRouter

from billing.api.views import ProductViewSet, SubscriptionViewSet
from portal.api.views import MeView

router = DefaultRouter()
router.register("products", ProductViewSet, basename="product")
router.register("subscriptions", SubscriptionViewSet, basename="subscription")

urlpatterns = [path("me/", MeView.as_view(), name="me"), *router.urls]
