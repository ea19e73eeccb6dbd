from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema_field

from portal.api import serializers
from portal.api.fields import StrictBooleanField, StrictDateField, StrictIntegerField
from portal.happenings import KINDS
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
