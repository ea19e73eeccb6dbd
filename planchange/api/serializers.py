from drf_spectacular.utils import extend_schema_field

from billing.models import MONEY, BillingFrequency, Term
from licensing.api.serializers import LicensePreviewSerializer, UserChangeGroupSerializer, UserChangeSerializer
from planchange.models import PlanChange, PlanChangeStep
from planchange.selectors import scheduled_change_warnings, scheduled_changes_warnings
from portal.api import serializers
from portal.api.fields import (
    FieldsBuiltOnce,
    IdField,
    LicensesField,
)
from portal.api.schema import BlockerSerializer


class OfferOptionSerializer(serializers.Serializer):
    term = serializers.CharField(source="offer.term")
    billing_frequency = serializers.CharField(source="offer.billing_frequency")
    price = serializers.DecimalField(source="offer.price", **MONEY)
    licenses = serializers.IntegerField()
    monthly_total = serializers.DecimalField(**MONEY)
    period_total = serializers.DecimalField(**MONEY)


class TargetSerializer(serializers.Serializer):
    sku = serializers.CharField(source="product.sku")
    name = serializers.CharField(source="product.name")
    supported = serializers.BooleanField(help_text="It can be ordered now: an upgrade that keeps every user's data.")
    upgrade = serializers.BooleanField(help_text="A higher list price per license than the current plan.")
    renewal_only = serializers.BooleanField(
        help_text="A plan that costs less and keeps every user's data: an MCA tenant may take it at renewal only.")
    gains = serializers.ListField(child=serializers.CharField(),
                                 help_text="The service plans it adds to the current plan's, by name.")
    reasons = BlockerSerializer(many=True)
    offers = OfferOptionSerializer(many=True)


class UpgradesSerializer(serializers.Serializer):
    can_change_automatically = serializers.BooleanField()
    blockers = BlockerSerializer(many=True)
    upgrades = TargetSerializer(many=True, source="targets")


class PlanChangeRequestSerializer(serializers.Serializer):
    subscription = IdField()
    target_sku = serializers.CharField(max_length=64)
    licenses = LicensesField(required=False)
    schedule = serializers.ChoiceField(choices=PlanChange.Schedule.choices, default=PlanChange.Schedule.NOW)
    term = serializers.ChoiceField(choices=Term.choices, required=False)
    billing_frequency = serializers.ChoiceField(choices=BillingFrequency.choices, required=False)
    payment_method = IdField(required=False)
    quote_id = IdField(required=False)


class StepSerializer(FieldsBuiltOnce, serializers.ModelSerializer):
    class Meta:
        model = PlanChangeStep
        fields = ["name", "status", "attempts", "started_at", "finished_at", "error"]


class PlanChangeListSerializer(serializers.ListSerializer):
    """A page of changes: the scheduled ones' warnings read together (``scheduled_changes_warnings``),
    not once per change."""

    def to_representation(self, data):
        changes = list(data.all() if hasattr(data, "all") else data)
        self.context["warnings"] = scheduled_changes_warnings(
            [c for c in changes if c.status == PlanChange.Status.SCHEDULED])
        return super().to_representation(changes)


class PlanChangeErrorSerializer(serializers.Serializer):
    code = serializers.CharField()
    detail = serializers.CharField(help_text="why it failed or was cancelled, in English")


class PlanChangeSerializer(FieldsBuiltOnce, serializers.ModelSerializer):
    subscription = serializers.IntegerField(source="subscription_id")
    target_sku = serializers.CharField(source="target_product.sku")
    new_subscription = serializers.IntegerField(
        source="new_subscription_id", allow_null=True,
        help_text="where the users go: the subscription the change made, or the one it goes into (into_subscription)")
    into_subscription = serializers.IntegerField(
        source="into_subscription_id", allow_null=True, read_only=True,
        help_text="the tenant's subscription of the target plan the change goes into; null: it makes a new one")
    invoice = serializers.IntegerField(source="invoice_id", allow_null=True)
    steps = StepSerializer(many=True)
    blockers = serializers.ListField(child=serializers.CharField(), help_text="the blocker codes that failed validate")
    disabled_plans_before = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="upn → the service plans that were turned off for that user before the change")
    error = serializers.SerializerMethodField()
    warnings = serializers.SerializerMethodField(
        help_text="of a scheduled change: what it would meet on its date if nothing is fixed first (blockers "
                  "with their fixes); empty otherwise")

    class Meta:
        model = PlanChange
        fields = ["id", "status", "subscription", "target_sku", "licenses", "term", "billing_frequency",
                  "schedule", "scheduled_for", "effective_date", "new_subscription", "into_subscription",
                  "steps", "credit", "invoice",
                  "disabled_plans_before", "blockers", "error", "warnings", "requested_at", "completed_at"]
        list_serializer_class = PlanChangeListSerializer

    @extend_schema_field(BlockerSerializer(many=True))
    def get_warnings(self, change) -> list[dict]:
        if change.status != PlanChange.Status.SCHEDULED:
            return []
        known = self.context.get("warnings") or {}
        return known[change.pk] if change.pk in known else scheduled_change_warnings(change)

    @extend_schema_field(PlanChangeErrorSerializer(allow_null=True))
    def get_error(self, change) -> dict | None:
        if not change.error_code:
            return None
        return {"code": change.error_code, "detail": change.error_detail}


class QuoteLineSerializer(serializers.Serializer):
    description = serializers.CharField()
    amount = serializers.DecimalField(**MONEY, help_text="negative for a credit")
    start = serializers.DateField()
    end = serializers.DateField()


class CreditDeliverySerializer(serializers.Serializer):
    kind = serializers.CharField(help_text="card_refund or account_credit")
    invoice_date = serializers.DateField(help_text="the invoice the credit is on")
    refund_date = serializers.DateField(allow_null=True, help_text="card_refund: when the card gets it back")
    text = serializers.CharField(help_text="the same, in words")


class QuoteSerializer(serializers.Serializer):
    quote_id = serializers.IntegerField(source="pk")
    expires_at = serializers.DateTimeField()
    effective_date = serializers.DateField()
    licenses = serializers.IntegerField(help_text="licenses of the new plan; into an existing subscription: the "
                                                  "ones it adds, one per user who doesn't hold the plan yet")
    term = serializers.CharField()
    billing_frequency = serializers.CharField()
    into_subscription = serializers.IntegerField(
        source="into_subscription_id", allow_null=True,
        help_text="the tenant's subscription of the target plan the change goes into (its licenses grow, its "
                  "length and billing frequency stay); null: the change makes a new subscription")
    credit = serializers.DecimalField(**MONEY)
    charge = serializers.DecimalField(**MONEY)
    total = serializers.DecimalField(**MONEY)
    lines = serializers.SerializerMethodField(help_text="description, amount, start, end of each line; description "
                                                        "is English whatever Accept-Language asks")
    credit_delivery = serializers.SerializerMethodField(
        help_text="how the credit reaches the payer: card_refund (the card, with the refund's date) or "
                  "account_credit (taken off the next invoice); null without a credit")

    @extend_schema_field(CreditDeliverySerializer(allow_null=True))
    def get_credit_delivery(self, quote) -> dict | None:
        delivery = quote.credit_delivery
        if delivery is None:
            return None
        return {"kind": delivery["kind"], "invoice_date": delivery["invoice_date"].isoformat(),
                "refund_date": delivery["refund_date"].isoformat() if delivery["refund_date"] else None,
                "text": delivery["text"]}

    users = serializers.SerializerMethodField(help_text="what the change does to each user's services: the first "
                                                           "200 users by user name (users_count: all of them)")
    users_count = serializers.SerializerMethodField()
    user_groups = serializers.SerializerMethodField(help_text="every user counted by the change they get")
    data_lost = serializers.SerializerMethodField(help_text="data-related services some user would lose the "
                                                           "data of (an automatic change never does)")

    def _users(self, quote) -> dict:
        preview = getattr(quote, "users_preview", None)
        return LicensePreviewSerializer(preview).data if preview is not None else {}

    @extend_schema_field(UserChangeSerializer(many=True))
    def get_users(self, quote) -> list[dict]:
        return self._users(quote).get("users", [])

    def get_users_count(self, quote) -> int:
        return self._users(quote).get("count", 0)

    @extend_schema_field(UserChangeGroupSerializer(many=True))
    def get_user_groups(self, quote) -> list[dict]:
        return self._users(quote).get("groups", [])

    def get_data_lost(self, quote) -> list[str]:
        return self._users(quote).get("data_lost", [])

    @extend_schema_field(QuoteLineSerializer(many=True))
    def get_lines(self, quote) -> list[dict]:
        return [{k: line[k] for k in ("description", "amount", "start", "end")} for line in quote.lines]
