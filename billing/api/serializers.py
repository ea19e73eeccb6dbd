import re

from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema_field

from billing.models import ADDON_CODE, MONEY, Invoice, InvoiceLine, Offer, Product, ServicePlan, Subscription
from billing.periods import renewal_date
from portal import clock
from portal.api import serializers
from portal.api.fields import FieldsBuiltOnce, LicensesField


class ServicePlanSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="code")
    display_name = serializers.CharField(source="name")

    class Meta:
        model = ServicePlan
        fields = ["name", "display_name", "service", "level", "data_related"]


class OfferSerializer(serializers.ModelSerializer):
    class Meta:
        model = Offer
        fields = ["term", "billing_frequency", "price"]


class ProductSerializer(serializers.ModelSerializer):
    service_plans = ServicePlanSerializer(many=True)
    offers = OfferSerializer(many=True)

    class Meta:
        model = Product
        fields = ["sku", "sku_id", "name", "max_licenses", "service_plans", "offers"]


class BillingProfileRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class SubscriptionSerializer(FieldsBuiltOnce, serializers.ModelSerializer):
    sku = serializers.CharField(source="product.sku")
    product_name = serializers.CharField(source="product.name")
    assigned_licenses = serializers.IntegerField()
    renewal_date = serializers.SerializerMethodField()
    billing_profile = BillingProfileRefSerializer(allow_null=True)
    addons = serializers.SerializerMethodField()
    change_in_progress = serializers.BooleanField()
    price = serializers.DecimalField(**MONEY, allow_null=True)
    status_until = serializers.DateField(
        allow_null=True, help_text="when the next lifecycle stage starts (Expired → Disabled → Deleted)")
    next_billing_date = serializers.DateField(
        source="billed_until", allow_null=True, help_text="when the next billing period starts and is charged")
    users_access = serializers.ChoiceField(
        choices=["full", "admins_only", "none"], read_only=True,
        help_text="full (Active, Expired), admins_only (Disabled: admins keep the data), none")
    trial_ends_on = serializers.DateField(
        allow_null=True, read_only=True,
        help_text="a trial's end: it converts to paid (a payment method on file, recurring billing on) or expires "
                  "that day; for a trial that ended, the day it did; null for what never was a trial")
    trial_extended = serializers.BooleanField(read_only=True, help_text="the trial was extended by 30 days (once only)")

    class Meta:
        model = Subscription
        fields = [
            "id", "sku", "product_name", "status", "provisioning", "source", "licenses",
            "assigned_licenses", "term", "billing_frequency", "price", "start_date",
            "renewal_date", "recurring_billing", "payment", "billing_profile", "addons",
            "change_in_progress", "status_until", "next_billing_date", "users_access", "licenses_at_renewal",
            "trial_ends_on", "trial_extended",
        ]

    def get_renewal_date(self, sub) -> str | None:
        if sub.status != Subscription.Status.ACTIVE or sub.source == Subscription.Source.TRIAL:  # a trial ends
            return None
        today = self.context.get("today") or clock.today()
        return renewal_date(start=sub.start_date, term=sub.term, today=today).isoformat()

    def get_addons(self, sub) -> list[str]:
        return [sa.addon.code for sa in sub.subscription_addons.all()]


class InvoiceLineSerializer(serializers.ModelSerializer):
    subscription = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True,
                                                      help_text="null for a line of the invoice as a whole")

    class Meta:
        model = InvoiceLine
        fields = ["description", "amount", "start", "end", "subscription"]


class InvoiceSerializer(serializers.ModelSerializer):
    status = serializers.SerializerMethodField()
    balance = serializers.DecimalField(**MONEY)
    lines = InvoiceLineSerializer(many=True)
    billing_profile = BillingProfileRefSerializer(allow_null=True)

    class Meta:
        model = Invoice
        fields = ["id", "number", "date", "due_date", "status", "total", "paid", "balance", "billing_profile",
                  "lines"]

    def get_status(self, invoice) -> str:
        return invoice.status_on(self.context.get("today") or clock.today())


class SubscriptionUpdateSerializer(serializers.Serializer):
    licenses = LicensesField(required=False)
    recurring_billing = serializers.BooleanField(required=False)

    openapi_schema = {"anyOf": [{"required": ["licenses"]}, {"required": ["recurring_billing"]}]}

    def validate(self, attrs):
        if not attrs:
            raise serializers.ValidationError("Give licenses or recurring_billing.")
        return attrs


@extend_schema_field({"type": "string", "pattern": f"^{ADDON_CODE}$", "maxLength": 64,
                      "example": "AUDIO_CONFERENCING"})
class AddOnCodeField(serializers.CharField):
    """An add-on's code as the catalog writes it: a JSON string of 1 to 64 of A-Z, 0-9 and _ (a
    number, padding or a lookalike letter is refused, not converted)."""

    default_error_messages = {"invalid": gettext_lazy("Give an add-on code of 1 to 64 characters A-Z, 0-9 or _.")}

    def __init__(self, **kwargs):
        super().__init__(max_length=64, trim_whitespace=False, **kwargs)

    def to_internal_value(self, data):
        if not isinstance(data, str) or re.fullmatch(ADDON_CODE, data) is None:
            self.fail("invalid")
        return data


class AddOnAddSerializer(serializers.Serializer):
    code = AddOnCodeField(help_text="the add-on to add back: one removed from this subscription, or from the one "
                                    "a plan change replaced with it")
