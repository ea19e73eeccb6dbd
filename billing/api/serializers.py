from rest_framework import serializers

from billing.models import MONEY, Invoice, InvoiceLine, Offer, Product, ServicePlan, Subscription
from billing.periods import renewal_date
from portal import clock
from portal.api.fields import FieldsBuiltOnce


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

    class Meta:
        model = Subscription
        fields = [
            "id", "sku", "product_name", "status", "provisioning", "source", "licenses",
            "assigned_licenses", "term", "billing_frequency", "price", "start_date",
            "renewal_date", "recurring_billing", "payment", "billing_profile", "addons",
            "change_in_progress", "status_until", "next_billing_date", "users_access", "licenses_at_renewal",
        ]

    def get_renewal_date(self, sub) -> str | None:
        if sub.status != Subscription.Status.ACTIVE:
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
