"""Billing's API: the catalog, the tenant's subscriptions (buy, PATCH licenses or recurring billing,
cancel, buy or remove licenses, add-ons, a trial's extension and purchase), invoices (pay one, settle every
past-due one) and payment methods."""

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from billing.api.serializers import (
    AddOnAddSerializer,
    InvoiceSerializer,
    ProductSerializer,
    SubscriptionSerializer,
    SubscriptionUpdateSerializer,
)
from billing.models import MONEY, BillingFrequency, Invoice, PaymentMethod, Term
from billing.selectors import (
    INVOICE_MISSING,
    PAYMENT_METHOD_MISSING,
    PRODUCT_MISSING,
    SUBSCRIPTION_MISSING,
    payment_method_list,
    product_list,
    subscription_shown,
    subscriptions_shown,
    subscriptions_shown_first,
)
from billing.services import (
    invoice_pay,
    invoices_settle,
    payment_method_add_card,
    subscription_addon_add,
    subscription_addon_remove,
    subscription_buy,
    subscription_cancel,
    subscription_licenses_change,
    subscription_trial_extend,
    subscription_trial_purchase,
    subscription_update,
)
from portal import clock
from portal.api import serializers
from portal.api.fields import IdField, LicensesField
from portal.api.mixins import NamedMissing, TenantScopedMixin
from portal.roles import BILLING_WRITERS


class ProductViewSet(NamedMissing, viewsets.ReadOnlyModelViewSet):
    """The catalog: products with their service plans and offers (not tenant data)."""

    missing = PRODUCT_MISSING

    serializer_class = ProductSerializer
    lookup_field = "sku"
    lookup_value_regex = "[A-Za-z0-9_-]{1,64}"

    def get_queryset(self):
        return product_list()


class InvoiceViewSet(TenantScopedMixin, viewsets.ReadOnlyModelViewSet):
    """The tenant's invoices; a credit is a line with a negative amount."""

    missing = INVOICE_MISSING

    write_roles = BILLING_WRITERS

    serializer_class = InvoiceSerializer

    def tenant_queryset(self, tenant):
        return Invoice.objects.filter(tenant=tenant).select_related("billing_profile").prefetch_related("lines")

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "today": clock.today()}

    @extend_schema(request=None, responses=InvoiceSerializer)
    @action(detail=True, methods=["post"])
    def pay(self, request, pk):
        """Pay the invoice's whole balance (Pay now / Settle balance)."""
        invoice_pay(tenant=self.tenant, invoice_id=pk, actor=request.user.get_username())
        return Response(self.get_serializer(self.get_queryset().get(pk=pk)).data)

    @extend_schema(request=None, responses=inline_serializer("BalanceSettled", {
        "amount": serializers.DecimalField(**MONEY, help_text="what was paid in all"),
        "invoices": InvoiceSerializer(many=True, help_text="every invoice that was past due, now paid"),
    }))
    @action(detail=False, methods=["post"])
    def settle(self, request):
        """Settle balance: pay every past-due invoice at once, one payment per invoice (409 ``nothing_to_pay``
        when none is past due)."""
        settled = invoices_settle(tenant=self.tenant, actor=request.user.get_username())
        paid = self.get_queryset().filter(pk__in=[i.pk for i in settled.invoices]).order_by("due_date", "pk")
        return Response({"amount": str(settled.amount), "invoices": self.get_serializer(paid, many=True).data})


class PaymentMethodSerializer(serializers.ModelSerializer):
    class Meta:
        model = PaymentMethod
        fields = ["id", "kind", "last4", "holder_name", "expiry_month", "expiry_year", "is_default"]


class CardSerializer(serializers.Serializer):
    number = serializers.CharField(max_length=40, write_only=True)
    expiry = serializers.CharField(max_length=7, help_text="MM/YY")
    holder_name = serializers.CharField(max_length=200)


class PaymentMethodViewSet(TenantScopedMixin, mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """The tenant's payment methods; POST adds a card (only its last four digits are kept)."""

    missing = PAYMENT_METHOD_MISSING

    write_roles = BILLING_WRITERS

    serializer_class = PaymentMethodSerializer

    def tenant_queryset(self, tenant):
        return payment_method_list(tenant=tenant)

    @extend_schema(request=CardSerializer, responses={201: PaymentMethodSerializer})
    def create(self, request, *args, **kwargs):
        data = CardSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        method = payment_method_add_card(tenant=self.tenant, actor=request.user.get_username(), **data.validated_data)
        return Response(PaymentMethodSerializer(method).data, status=201)


class BuySerializer(serializers.Serializer):
    sku = serializers.CharField(max_length=64)
    licenses = LicensesField()
    term = serializers.ChoiceField(choices=Term.choices, default=Term.P1Y)
    billing_frequency = serializers.ChoiceField(choices=BillingFrequency.choices, default=BillingFrequency.MONTHLY)
    payment_method = IdField(required=False, allow_null=True)


class LicensesChangeSerializer(serializers.Serializer):
    add = LicensesField(required=False, help_text="licenses to buy")
    remove = LicensesField(required=False, help_text="licenses to remove")

    openapi_schema = {"oneOf": [{"required": ["add"]}, {"required": ["remove"]}]}

    def validate(self, attrs):
        if len(attrs) != 1:
            raise serializers.ValidationError(_("Give either add or remove, a whole number of licenses."))
        return attrs


class SubscriptionViewSet(TenantScopedMixin, mixins.UpdateModelMixin, viewsets.ReadOnlyModelViewSet):
    """The caller's tenant's subscriptions; POST buys one; PATCH licenses or recurring billing; cancel."""

    missing = SUBSCRIPTION_MISSING

    write_roles = BILLING_WRITERS

    @extend_schema(request=BuySerializer, responses={201: SubscriptionSerializer})
    def create(self, request):
        data = BuySerializer(data=request.data)
        data.is_valid(raise_exception=True)
        sub = subscription_buy(tenant=self.tenant, actor=request.user.get_username(), **data.validated_data)
        return Response(self.get_serializer(self.get_queryset().get(pk=sub.pk)).data, status=status.HTTP_201_CREATED)

    serializer_class = SubscriptionSerializer
    http_method_names = ["get", "patch", "post", "delete", "head", "options"]

    def tenant_queryset(self, tenant):
        return subscriptions_shown(tenant=tenant)

    def list(self, request, *args, **kwargs):
        return self.list_read(lambda limit: subscriptions_shown_first(tenant=self.tenant, limit=limit))

    def retrieve(self, request, *args, **kwargs):
        return self.retrieve_read(subscription_shown)

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "today": clock.today()}

    @extend_schema(request=SubscriptionUpdateSerializer, responses=SubscriptionSerializer)
    def partial_update(self, request, pk=None):
        subscription_update(tenant=self.tenant, subscription_id=pk, actor=request.user.get_username(),
                            **self.request_body(SubscriptionUpdateSerializer))
        return Response(self.get_serializer(self.get_queryset().get(pk=pk)).data)

    def update(self, request, *args, **kwargs):
        if not kwargs.get("partial"):
            return self.http_method_not_allowed(request)
        return super().update(request, *args, **kwargs)

    @extend_schema(request=None, responses=inline_serializer("SubscriptionCancelled", {
        "subscription": SubscriptionSerializer(),
        "credit": inline_serializer("CancelCredit", {
            "amount": serializers.DecimalField(max_digits=18, decimal_places=2),
            "invoice": serializers.IntegerField(), "invoice_number": serializers.CharField(),
            "description": serializers.CharField()}, allow_null=True)}))
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        """Cancel (Microsoft's "Cancel your subscription"): answers the credit it gave, or 409 with the
        reason (and, outside MCA's 7-day window, the alternative: turn off recurring billing)."""
        cancelled = subscription_cancel(tenant=self.tenant, subscription_id=pk,
                                        actor=request.user.get_username())
        line = cancelled.credit_line
        return Response({
            "subscription": self.get_serializer(self.get_queryset().get(pk=pk)).data,
            "credit": {"amount": str(line.amount), "invoice": line.invoice_id, "invoice_number": line.invoice.number,
                       "description": line.description} if line is not None else None,
        })

    @extend_schema(request=LicensesChangeSerializer, responses=inline_serializer("LicensesChanged", {
        "subscription": SubscriptionSerializer(),
        "effective": serializers.CharField(help_text='"now", or the renewal date (YYYY-MM-DD) an MCA removal '
                                                         'waits for after its 7-day window'),
        "invoice": inline_serializer("LicensesInvoice", {"id": serializers.IntegerField(),
                                                         "number": serializers.CharField()}, allow_null=True)}))
    @action(detail=True, methods=["post"])
    def licenses(self, request, pk=None):
        """Buy or remove licenses (Microsoft's "Buy or remove licenses"): bought ones now with the rest of the
        period charged; removed ones never below the licenses assigned (409/422 with the numbers), MCA at once only
        within 7 days of the purchase or renewal, otherwise at the renewal."""
        changed = subscription_licenses_change(tenant=self.tenant, subscription_id=pk,
                                               actor=request.user.get_username(),
                                               **self.request_body(LicensesChangeSerializer))
        invoice = getattr(changed, "licenses_invoice", None)
        effective = changed.licenses_effective
        return Response({
            "subscription": self.get_serializer(self.get_queryset().get(pk=pk)).data,
            "effective": effective if effective == "now" else effective.isoformat(),
            "invoice": {"id": invoice.pk, "number": invoice.number} if invoice is not None else None,
        })

    @extend_schema(request=AddOnAddSerializer, responses={201: SubscriptionSerializer})
    @action(detail=True, methods=["post"], url_path="addons")
    def add_addon(self, request, pk=None):
        """Add an add-on back: one removed from this subscription, or from (or left on) the subscription a
        plan change replaced with it. 409 ``addon_present_already``, ``addon_not_restorable`` (with
        ``can_add_back``), ``addon_blocks_scheduled_change``, ``subscription_not_active`` or
        ``change_in_progress``; 404 ``addon_not_found`` for a code the catalog doesn't have. An add-on that
        blocks a plan change blocks it again."""
        subscription_addon_add(tenant=self.tenant, subscription_id=pk, actor=request.user.get_username(),
                               **self.request_body(AddOnAddSerializer))
        return Response(self.get_serializer(self.get_queryset().get(pk=pk)).data,
                        status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={204: None})
    @action(detail=True, methods=["delete"], url_path=r"addons/(?P<code>[A-Z0-9_]+)")
    def remove_addon(self, request, pk, code):
        """Remove an add-on (one that blocks a plan change can be added back later)."""
        subscription_addon_remove(tenant=self.tenant, subscription_id=pk, code=code,
                                  actor=request.user.get_username())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, responses=SubscriptionSerializer)
    @action(detail=True, methods=["post"], url_path="trial/extend")
    def trial_extend(self, request, pk=None):
        """Extend your trial: 30 more days, once, within the last 15 days of the trial. 409
        ``trial_already_extended`` the second time, ``trial_extend_not_yet`` before the window opens (with
        ``extendable_from``), ``not_a_trial``, ``subscription_not_active`` for a trial that has ended."""
        subscription_trial_extend(tenant=self.tenant, subscription_id=pk, actor=request.user.get_username())
        return Response(self.get_serializer(self.get_queryset().get(pk=pk)).data)

    @extend_schema(request=None, responses=inline_serializer("TrialPurchased", {
        "subscription": SubscriptionSerializer(),
        "invoice": inline_serializer("TrialInvoice", {"id": serializers.IntegerField(),
                                                      "number": serializers.CharField()}, allow_null=True)}))
    @action(detail=True, methods=["post"], url_path="trial/purchase")
    def trial_purchase(self, request, pk=None):
        """Purchase subscription: the trial becomes a paid subscription of the same plan now, billing starts
        today (the invoice of its first period: MOSA dated today, MCA the billing profile's of the next 1st).
        422 ``payment_method_required`` without a payment method on file; 409 ``not_a_trial``."""
        sub = subscription_trial_purchase(tenant=self.tenant, subscription_id=pk, actor=request.user.get_username())
        invoice = sub.trial_invoice
        return Response({
            "subscription": self.get_serializer(self.get_queryset().get(pk=pk)).data,
            "invoice": {"id": invoice.pk, "number": invoice.number} if invoice is not None else None,
        })
