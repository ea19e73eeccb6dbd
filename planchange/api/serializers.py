import re

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from billing.models import ADDON_CODE, MONEY, BillingFrequency, Term
from licensing.api.serializers import LicensePreviewSerializer
from planchange.models import PlanChange, PlanChangeStep
from planchange.selectors import scheduled_change_warnings, scheduled_changes_warnings
from portal.api.fields import (
    FieldsBuiltOnce,
    IdField,
    LicensesField,
    StrictBooleanField,
    StrictDateField,
    StrictIntegerField,
)
from portal.happenings import KINDS


class ActionSerializer(serializers.Serializer):
    label = serializers.CharField()
    url = serializers.CharField()


class BlockerSerializer(serializers.Serializer):
    code = serializers.CharField()
    title = serializers.CharField()
    resolution = serializers.CharField()
    detail = serializers.CharField()
    action = ActionSerializer(allow_null=True)
    services = serializers.ListField(child=serializers.CharField(), required=False)

    def to_representation(self, blocker):
        return blocker.as_dict()


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
    supported = serializers.BooleanField()
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
    schedule = serializers.ChoiceField(choices=PlanChange.Schedule.choices, default="now")
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


class PlanChangeSerializer(FieldsBuiltOnce, serializers.ModelSerializer):
    subscription = serializers.IntegerField(source="subscription_id")
    target_sku = serializers.CharField(source="target_product.sku")
    new_subscription = serializers.IntegerField(source="new_subscription_id", allow_null=True)
    invoice = serializers.IntegerField(source="invoice_id", allow_null=True)
    steps = StepSerializer(many=True)
    error = serializers.SerializerMethodField()
    warnings = serializers.SerializerMethodField(
        help_text="of a scheduled change: what it would meet on its date if nothing is fixed first (blockers "
                  "with their fixes); empty otherwise")

    class Meta:
        model = PlanChange
        fields = ["id", "status", "subscription", "target_sku", "licenses", "term", "billing_frequency",
                  "schedule", "scheduled_for", "effective_date", "new_subscription", "steps", "credit", "invoice",
                  "disabled_plans_before", "blockers", "error", "warnings", "requested_at", "completed_at"]
        list_serializer_class = PlanChangeListSerializer

    def get_warnings(self, change) -> list[dict]:
        if change.status != PlanChange.Status.SCHEDULED:
            return []
        known = self.context.get("warnings") or {}
        return known[change.pk] if change.pk in known else scheduled_change_warnings(change)

    def get_error(self, change) -> dict | None:
        if not change.error_code:
            return None
        return {"code": change.error_code, "detail": change.error_detail}


class QuoteSerializer(serializers.Serializer):
    quote_id = serializers.IntegerField(source="pk")
    expires_at = serializers.DateTimeField()
    effective_date = serializers.DateField()
    credit = serializers.DecimalField(**MONEY)
    charge = serializers.DecimalField(**MONEY)
    total = serializers.DecimalField(**MONEY)
    lines = serializers.SerializerMethodField(help_text="description, amount, start, end of each line; description "
                                                        "is English whatever Accept-Language asks")
    credit_delivery = serializers.SerializerMethodField(
        help_text="how the credit reaches the payer: card_refund (the card, with the refund's date) or "
                  "account_credit (taken off the next invoice); null without a credit")

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

    def get_users(self, quote) -> list[dict]:
        return self._users(quote).get("users", [])

    def get_users_count(self, quote) -> int:
        return self._users(quote).get("count", 0)

    def get_user_groups(self, quote) -> list[dict]:
        return self._users(quote).get("groups", [])

    def get_data_lost(self, quote) -> list[str]:
        return self._users(quote).get("data_lost", [])

    def get_lines(self, quote) -> list[dict]:
        return [{k: line[k] for k in ("description", "amount", "start", "end")} for line in quote.lines]


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


class ClockSerializer(serializers.Serializer):
    days = StrictIntegerField(min_value=1, max_value=3660, required=False)
    business_days = StrictIntegerField(min_value=1, max_value=2600, required=False)
    to = StrictDateField(required=False)
    dry_run = StrictBooleanField(required=False, default=False,
                                 help_text="JSON true: list what the move would do, in order, and move nothing")

    openapi_schema = {"oneOf": [{"required": ["days"]}, {"required": ["business_days"]}, {"required": ["to"]}]}

    def validate(self, attrs):
        if len([k for k in attrs if k != "dry_run"]) != 1:
            raise serializers.ValidationError(_("Give exactly one of days, business_days or to."))
        return attrs


class HappeningSerializer(serializers.Serializer):
    date = serializers.DateField()
    kind = serializers.ChoiceField(choices=KINDS)
    tenant = serializers.IntegerField()
    tenant_domain = serializers.CharField()
    subject = serializers.CharField()
    detail = serializers.CharField()
    ref = serializers.CharField(help_text="what it happened to: subscription/<id>, invoice/<number>, plan_change/<id>, "
                                          "plan_change/<id>/new_subscription, credit_check/<id>")


# "from" is a Python keyword, so this one is built from a dict.
ClockMovedSerializer = type("ClockMovedSerializer", (serializers.Serializer,), {
    "now": serializers.DateTimeField(),
    "today": serializers.DateField(),
    "dry_run": serializers.BooleanField(),
    "from": serializers.DateField(),
    "to": serializers.DateField(),
    "events": HappeningSerializer(many=True, help_text="in the order they happen (or would)"),
    "sweep": serializers.DictField(help_text="scheduled_started: the scheduled changes started on the way"),
})
