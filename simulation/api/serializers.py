from django.utils.translation import gettext as _

from portal.api import serializers
from portal.api.fields import StrictBooleanField, StrictDateField, StrictIntegerField
from portal.happenings import KINDS


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
