from django.urls import path
from rest_framework.routers import DefaultRouter

from billing.api.views import InvoiceViewSet, ProductViewSet
from licensing.api.users import UserViewSet
from licensing.api.views import AssignView, ReplaceView, UnassignView
from planchange.api.views import PlanChangeViewSet, SubscriptionUpgradesView, SubscriptionViewSet, SupportClockView
from portal.api.views import MeView

router = DefaultRouter()
router.register("products", ProductViewSet, basename="product")
router.register("subscriptions", SubscriptionViewSet, basename="subscription")
router.register("invoices", InvoiceViewSet, basename="invoice")
router.register("users", UserViewSet, basename="user")
router.register("plan-changes", PlanChangeViewSet, basename="plan-change")

urlpatterns = [
    path("me/", MeView.as_view(), name="me"),
    path("subscriptions/<int:pk>/upgrades/", SubscriptionUpgradesView.as_view(), name="subscription-upgrades"),
    path("licenses/assign/", AssignView.as_view(), name="licenses-assign"),
    path("licenses/unassign/", UnassignView.as_view(), name="licenses-unassign"),
    path("licenses/replace/", ReplaceView.as_view(), name="licenses-replace"),
    path("support/clock/", SupportClockView.as_view(), name="support-clock"),
    *router.urls,
]
