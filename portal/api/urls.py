from django.urls import path
from rest_framework.routers import DefaultRouter

from billing.api.views import InvoiceViewSet, PaymentMethodViewSet, ProductViewSet, SubscriptionViewSet
from licensing.api.users import UserViewSet
from licensing.api.views import AssignView, ReplacePreviewView, ReplaceView, UnassignView
from planchange.api.views import PlanChangeViewSet, SubscriptionUpgradesView
from portal.api.tenant_views import EventViewSet, ServiceHealthView
from portal.api.tokens import ApiTokenViewSet
from portal.api.views import MeView
from simulation.api.views import SupportClockMoveViewSet, SupportClockView, SupportTenantImportView
from support.api.views import (
    SupportCreditCheckViewSet,
    SupportIncidentViewSet,
    SupportPaymentHabitsView,
    SupportPlanChangeViewSet,
    SupportSubscriptionViewSet,
    SupportTenantsView,
    SupportWorkersView,
)
from webhooks.api.views import DeliveryViewSet, WebhookViewSet

router = DefaultRouter()
router.register("products", ProductViewSet, basename="product")
router.register("subscriptions", SubscriptionViewSet, basename="subscription")
router.register("invoices", InvoiceViewSet, basename="invoice")
router.register("users", UserViewSet, basename="user")
router.register("plan-changes", PlanChangeViewSet, basename="plan-change")
router.register("payment-methods", PaymentMethodViewSet, basename="payment-method")
router.register("events", EventViewSet, basename="event")
router.register("tokens", ApiTokenViewSet, basename="api-token")
router.register("support/clock/moves", SupportClockMoveViewSet, basename="support-clock-move")
router.register("support/plan-changes", SupportPlanChangeViewSet, basename="support-plan-change")
router.register("support/credit-checks", SupportCreditCheckViewSet, basename="support-credit-check")
router.register("support/incidents", SupportIncidentViewSet, basename="support-incident")
router.register("support/subscriptions", SupportSubscriptionViewSet, basename="support-subscription")
router.register("webhooks", WebhookViewSet, basename="webhook")
router.register(r"webhooks/(?P<webhook_pk>[0-9]{1,19})/deliveries", DeliveryViewSet, basename="webhook-delivery")

urlpatterns = [
    path("me/", MeView.as_view(), name="me"),
    path("subscriptions/<id:pk>/upgrades/", SubscriptionUpgradesView.as_view(), name="subscription-upgrades"),
    path("licenses/assign/", AssignView.as_view(), name="licenses-assign"),
    path("licenses/unassign/", UnassignView.as_view(), name="licenses-unassign"),
    path("licenses/replace/", ReplaceView.as_view(), name="licenses-replace"),
    path("licenses/preview/", ReplacePreviewView.as_view(), name="licenses-preview"),
    path("support/clock/", SupportClockView.as_view(), name="support-clock"),
    path("support/tenants/", SupportTenantsView.as_view(), name="support-tenants"),
    path("support/tenants/import/", SupportTenantImportView.as_view(), name="support-tenant-import"),
    path("support/tenants/<id:pk>/payment-habits/", SupportPaymentHabitsView.as_view(),
         name="support-payment-habits"),
    path("support/workers/", SupportWorkersView.as_view(), name="support-workers"),
    path("service-health/", ServiceHealthView.as_view(), name="service-health"),
    *router.urls,
]
