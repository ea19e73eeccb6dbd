import json

from drf_spectacular.utils import extend_schema_field

from portal.api import serializers
from portal.api.fields import JSONObjectField, NameField, StrictCharField
from webhooks.events import TYPES
from webhooks.models import Attempt, Delivery, Endpoint
from webhooks.services import DESCRIPTION_MAX
from webhooks.targets import URL_MAX


class EndpointCreateSerializer(serializers.Serializer):
    # Text the schema can't tell from a URL (no scheme, a user name, a non-ASCII host) is the service's to
    # refuse: 422 webhook_url_invalid, as for every other well-formed request the portal turns down.
    url = StrictCharField(max_length=URL_MAX,
                                help_text="http(s) URL on the public internet; no user name or password "
                                          "(else 422 webhook_url_invalid)")
    events = serializers.ListField(child=serializers.ChoiceField(choices=TYPES), min_length=1, max_length=len(TYPES),
                                   help_text="the event types sent to it")
    description = NameField(max_length=DESCRIPTION_MAX, required=False, allow_blank=True, default="")


class EndpointSerializer(serializers.ModelSerializer):
    events = serializers.ListField(child=serializers.ChoiceField(choices=TYPES))

    class Meta:
        model = Endpoint
        fields = ["id", "url", "events", "description", "status", "failing_since", "created_at"]


class EndpointCreatedSerializer(EndpointSerializer):
    secret = serializers.CharField(help_text="whsec_…: the signing key, shown only in this answer")

    class Meta(EndpointSerializer.Meta):
        fields = [*EndpointSerializer.Meta.fields, "secret"]


class AttemptSerializer(serializers.ModelSerializer):
    class Meta:
        model = Attempt
        fields = ["number", "attempted_at", "status_code", "error_kind", "error", "duration_ms"]


class DeliveryPayloadSerializer(serializers.Serializer):
    id = serializers.CharField(help_text="the message id, also the webhook-id header")
    type = serializers.CharField()
    created_at = serializers.DateTimeField()
    data = JSONObjectField(help_text="the event type's own fields (docs/api.md, \"Webhooks\")")


class DeliverySerializer(serializers.ModelSerializer):
    attempts = AttemptSerializer(many=True, source="attempt_log", read_only=True)
    payload = serializers.SerializerMethodField(help_text="the JSON body sent: {id, type, created_at, data}")
    webhook = serializers.IntegerField(source="endpoint_id", read_only=True)

    class Meta:
        model = Delivery
        fields = ["id", "webhook", "message_id", "type", "status", "created_at", "next_attempt_at", "payload",
                  "attempts"]

    @extend_schema_field(DeliveryPayloadSerializer)
    def get_payload(self, delivery) -> dict:
        return json.loads(delivery.body)
