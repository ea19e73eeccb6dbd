from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import fields as drf_fields

from billing.models import BillingFrequency, PaymentKind, Term
from portal.api import serializers
from portal.api.fields import StrictBooleanField, StrictDateField, StrictIntegerField
from portal.happenings import KINDS
from portal.models import Tenant
from simulation.models import ClockMove
from simulation.moves import move_events


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


class SweepSerializer(serializers.Serializer):
    scheduled_started = serializers.ListField(child=serializers.IntegerField(),
                                              help_text="the scheduled changes started on the way (ids)")


# "from" is a Python keyword, so this one is built from a dict.
ClockMovedSerializer = type("ClockMovedSerializer", (serializers.Serializer,), {
    "now": serializers.DateTimeField(),
    "today": serializers.DateField(),
    "dry_run": serializers.BooleanField(),
    "from": serializers.DateField(),
    "to": serializers.DateField(),
    "events": HappeningSerializer(many=True, help_text="in the order they happen (or would)"),
    "sweep": SweepSerializer(),
    "move": serializers.IntegerField(help_text="the move's id: GET support/clock/moves/{id}/ shows it again"),
})


_MOVE_FIELDS = ["id", "url", "status", "dry_run", "from", "to", "applied_through", "days_done", "days_total",
                "happenings", "runs", "actor", "error", "created_at", "finished_at"]


class _ClockMoveFields(serializers.ModelSerializer):
    url = serializers.SerializerMethodField(help_text="where to follow it")
    days_done = serializers.IntegerField(help_text="days of the way applied so far")
    days_total = serializers.IntegerField(help_text="days from `from` to `to`")

    class Meta:
        model = ClockMove
        fields = _MOVE_FIELDS
        extra_kwargs = {
            "status": {"help_text": "queued (no runner yet), running, done or failed"},
            "applied_through": {"help_text": "the last day on the way applied"},
            "happenings": {"help_text": "things that happened so far (each in `events` once done)"},
            "runs": {"help_text": "times a runner took it up: more than 1 when one was stopped and another went on"},
            "error": {"help_text": "why it failed (support's logs have the rest)"},
        }

    def get_url(self, move) -> str:
        return reverse("support-clock-move-detail", kwargs={"pk": move.pk})


# A move of the clock (or its dry run) as it goes: how far it got, what happened so far. "from" is a Python
# keyword, so this one is built from a dict.
ClockMoveSerializer = type("ClockMoveSerializer", (_ClockMoveFields,), {
    "from": serializers.DateField(source="start", help_text="the simulation date it began on"),
    "to": serializers.DateField(source="target", help_text="the simulation date it ends on"),
})


# A move's detail lists this many of its happenings at most (``happenings`` says how many there were): a
# ten-year move over a thousand tenants has hundreds of thousands, some 80 MB of JSON.
EVENTS_SHOWN = 1000


class ClockMoveDetailSerializer(ClockMoveSerializer):
    events = serializers.SerializerMethodField(
        help_text=f"once done: what happened, in order (as POST answers), the first {EVENTS_SHOWN} at most")

    class Meta(_ClockMoveFields.Meta):
        fields = [*_MOVE_FIELDS, "events"]

    @extend_schema_field(HappeningSerializer(many=True, allow_null=True))
    def get_events(self, move):
        if move.status != move.Status.DONE:
            return None
        return move_events(move, limit=EVENTS_SHOWN)


class TenantImportSerializer(serializers.Serializer):
    """What Graph doesn't say, each with its default: the query parameters of an import (its body is the
    export itself)."""

    # Query parameters' booleans ("true", "false").
    anonymize = drf_fields.BooleanField(required=False, default=False)
    replace = drf_fields.BooleanField(required=False, default=False)
    agreement = serializers.ChoiceField(choices=Tenant.Agreement.values, default=Tenant.Agreement.MOSA)
    kind = serializers.ChoiceField(choices=Tenant.Kind.values, default=Tenant.Kind.COMMERCIAL)
    term = serializers.ChoiceField(choices=Term.values, default=Term.P1Y)
    billing_frequency = serializers.ChoiceField(choices=BillingFrequency.values, default=BillingFrequency.MONTHLY)
    payment = serializers.ChoiceField(choices=PaymentKind.values, default=PaymentKind.CARD)
    admin = serializers.CharField(required=False, default="", allow_blank=True, max_length=150)


class ImportedTenantSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    domain = serializers.CharField()
    agreement = serializers.ChoiceField(choices=Tenant.Agreement.values)
    kind = serializers.ChoiceField(choices=Tenant.Kind.values)


class ImportAdminSerializer(serializers.Serializer):
    username = serializers.CharField()
    password = serializers.CharField(help_text="shown only here; only its hash is kept")
    api_token = serializers.CharField(help_text="shown only here; only its digest is kept")


class UnknownSkuSerializer(serializers.Serializer):
    skuId = serializers.UUIDField()  # noqa: N815 - Graph's name, as the file has it
    skuPartNumber = serializers.CharField()  # noqa: N815
    licenses = serializers.IntegerField()
    users = serializers.IntegerField(help_text="users of the file holding it (their license of it left out)")


class UnknownPlanSerializer(serializers.Serializer):
    servicePlanId = serializers.CharField()  # noqa: N815 - Graph's name, as the file has it
    name = serializers.CharField(help_text="the file's servicePlanName (its id when the file names it nowhere)")
    users = serializers.IntegerField(help_text="licenses with it turned off")


class AssumedSerializer(serializers.Serializer):
    what = serializers.CharField()
    value = serializers.CharField()


class TenantImportedSerializer(serializers.Serializer):
    tenant = ImportedTenantSerializer()
    users = serializers.IntegerField()
    replaced = serializers.BooleanField()
    admin = ImportAdminSerializer(help_text="the login made for the import: shown only here")
    unknown_skus = UnknownSkuSerializer(many=True, help_text="SKUs the catalog doesn't have: left out")
    unknown_plans = UnknownPlanSerializer(many=True, help_text="service plans the catalog doesn't know: kept")
    assumed = AssumedSerializer(many=True, help_text="what Graph doesn't say, as the import took it")
