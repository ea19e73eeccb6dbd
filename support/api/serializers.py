"""Support staff's API answers: plan changes with their trail, subscriptions, credit checks,
incidents, tenants with their problems and how they pay."""

from drf_spectacular.utils import extend_schema_field

from billing.api.serializers import SubscriptionSerializer
from billing.models import MONEY, CreditCheck, PaymentHabit
from planchange.api.serializers import PlanChangeSerializer
from planchange.models import PlanChange
from portal.api import serializers
from portal.api.fields import (
    PLAIN_TEXT_OR_BLANK_PATTERN,
    IdField,
    JSONObjectField,
    NameField,
    StrictCharField,
    StrictIntegerField,
)
from portal.models import ServiceIncident
from portal.services import SUPPORT_REASON_MAX
from support.selectors import change_trail, change_users_moved


class ReasonField(StrictCharField):
    """Why support acted, passed on as sent: the service checks it, whichever door it came through
    (``portal.services.support_reason_clean``: 3 to 500 characters of plain text, or none)."""

    openapi_pattern = PLAIN_TEXT_OR_BLANK_PATTERN
    openapi_max_length = SUPPORT_REASON_MAX

    def __init__(self, **kwargs):
        kwargs.setdefault("help_text", "why, 3 to 500 characters of plain text: kept on the audit event")
        super().__init__(required=False, allow_blank=True, trim_whitespace=False, **kwargs)


class ReasonSerializer(serializers.Serializer):
    reason = ReasonField()


class SupportPlanChangeSerializer(PlanChangeSerializer):
    tenant = serializers.IntegerField(source="tenant_id")
    stalled = serializers.SerializerMethodField(
        help_text="running, with a step whose worker stopped renewing its lease")
    stuck = serializers.SerializerMethodField(help_text="running, stopped on a failed step: support must act")

    class Meta(PlanChangeSerializer.Meta):
        fields = ["tenant", *PlanChangeSerializer.Meta.fields, "stalled", "stuck"]

    def get_stalled(self, change) -> bool:
        return bool(getattr(change, "is_stalled", False)) and change.status == PlanChange.Status.RUNNING

    def get_stuck(self, change) -> bool:
        return bool(getattr(change, "is_stuck", False)) and change.status == PlanChange.Status.RUNNING


class SupportEventSerializer(serializers.Serializer):
    occurred_at = serializers.DateTimeField()
    actor = serializers.CharField()
    verb = serializers.CharField()
    data = JSONObjectField(help_text="the verb's own fields")


class QuoteBriefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    total = serializers.DecimalField(**MONEY)


class InvoiceLineBriefSerializer(serializers.Serializer):
    description = serializers.CharField()
    amount = serializers.DecimalField(**MONEY)


class SupportPlanChangeDetailSerializer(SupportPlanChangeSerializer):
    correlation_id = serializers.CharField(source="holder")
    quote = serializers.SerializerMethodField()
    invoice_lines = serializers.SerializerMethodField()
    users_moved = serializers.SerializerMethodField(help_text="users holding the new license once completed")
    events = serializers.SerializerMethodField(help_text="its audit trail in order, under its correlation id")

    class Meta(SupportPlanChangeSerializer.Meta):
        fields = [*SupportPlanChangeSerializer.Meta.fields, "correlation_id", "quote", "invoice_lines",
                  "users_moved", "events"]

    @extend_schema_field(QuoteBriefSerializer(allow_null=True))
    def get_quote(self, change) -> dict | None:
        return {"id": change.quote_id, "total": str(change.quote.total)} if change.quote_id else None

    @extend_schema_field(InvoiceLineBriefSerializer(many=True))
    def get_invoice_lines(self, change) -> list[dict]:
        if not change.invoice_id:
            return []
        return [{"description": line.description, "amount": str(line.amount)} for line in change.invoice.lines.all()]

    def get_users_moved(self, change) -> int:
        return change_users_moved(change)

    @extend_schema_field(SupportEventSerializer(many=True))
    def get_events(self, change) -> list[dict]:
        return SupportEventSerializer(change_trail(change), many=True).data


class SupportSubscriptionSerializer(SubscriptionSerializer):
    tenant = serializers.IntegerField(source="tenant_id")

    class Meta(SubscriptionSerializer.Meta):
        fields = ["tenant", *SubscriptionSerializer.Meta.fields]


class CreditCheckSerializer(serializers.ModelSerializer):
    tenant = serializers.IntegerField(source="tenant_id")

    class Meta:
        model = CreditCheck
        fields = ["id", "tenant", "status", "requested", "decided_on"]


class IncidentSerializer(serializers.ModelSerializer):
    tenant = IdField(source="tenant_id", help_text="the organization's id (404 tenant_not_found if none has it)")
    title = NameField(max_length=300)
    reason = ReasonField(write_only=True)

    class Meta:
        model = ServiceIncident
        fields = ["id", "tenant", "service", "status", "title", "opened_at", "resolved_at", "reason"]
        read_only_fields = ["opened_at", "resolved_at"]


class IncidentStatusSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=ServiceIncident.Status.choices)
    reason = ReasonField()

    openapi_schema = {"required": ["status"]}  # a PATCH, but the status is what it changes


class BlockedSubscriptionSerializer(serializers.Serializer):
    subscription = serializers.IntegerField()
    product = serializers.CharField()
    blockers = serializers.ListField(child=serializers.CharField(), help_text="the blockers' titles")


class OverdueInvoiceSerializer(serializers.Serializer):
    invoice = serializers.IntegerField()
    number = serializers.CharField()
    balance = serializers.DecimalField(**MONEY)
    due_date = serializers.DateField()


class SupportTenantSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="tenant.pk")
    name = serializers.CharField(source="tenant.name")
    domain = serializers.CharField(source="tenant.domain")
    agreement = serializers.CharField(source="tenant.agreement")
    blocked = serializers.SerializerMethodField(help_text="subscriptions that can't change plans, with why")
    overdue = serializers.SerializerMethodField()
    failed_changes = serializers.SerializerMethodField(help_text="failed in the last 30 days")
    stalled_changes = serializers.IntegerField(source="stalled")
    stuck_changes = serializers.IntegerField(source="stuck", help_text="running, stopped on a failed step")

    @extend_schema_field(BlockedSubscriptionSerializer(many=True))
    def get_blocked(self, row) -> list[dict]:
        return [{"subscription": sub.pk, "product": sub.product.name, "blockers": reasons}
                for sub, reasons in row.blocked]

    @extend_schema_field(OverdueInvoiceSerializer(many=True))
    def get_overdue(self, row) -> list[dict]:
        return [{"invoice": inv.pk, "number": inv.number, "balance": str(inv.balance),
                 "due_date": inv.due_date.isoformat()} for inv in row.overdue]

    def get_failed_changes(self, row) -> list[int]:
        return [c.pk for c in row.failed]


class PayerSerializer(serializers.Serializer):
    """A payer of the tenant's invoices and how it pays them as the days pass (``billing.habits``)."""

    billing_profile = serializers.IntegerField(source="billing_profile_id", allow_null=True,
                                               help_text="null: the tenant, for its invoices without a billing profile")
    name = serializers.CharField()
    payment_habit = serializers.ChoiceField(choices=PaymentHabit.choices)
    payment_delay_days = serializers.IntegerField(help_text="of a late payer: days after the due date (1 to 365)")


class PaymentHabitSerializer(ReasonSerializer):
    """Set a payer's habit; the service checks the values (422 ``invalid_payment_habit``,
    ``invalid_payment_delay``, ``unknown_billing_profile``)."""

    billing_profile = IdField(required=False, allow_null=True,
                              help_text="one of the tenant's billing profiles; left out: the tenant's own invoices")
    payment_habit = StrictCharField(max_length=16, help_text="on_time | late | never")
    payment_delay_days = StrictIntegerField(min_value=0, max_value=1_000_000, required=False, allow_null=True,
                                            help_text="with late only: 1 to 365")


class WorkerSerializer(serializers.Serializer):
    hostname = serializers.CharField(help_text="the worker's node name, e.g. worker@host")
    beat_at = serializers.DateTimeField(help_text="when it last started or finished a task of this queue")
    alive = serializers.BooleanField(help_text="it answered within silence_seconds")


class QueueWorkersSerializer(serializers.Serializer):
    queue = serializers.ChoiceField(choices=["celery", "webhooks", "clock"],
                                    help_text="celery: plan changes; webhooks; clock: support's clock moves")
    label = serializers.CharField()
    alive = serializers.BooleanField(help_text="a worker of this queue answered within silence_seconds")
    silent = serializers.BooleanField(help_text="none answered within silence_seconds while work waits: the "
                                                "support pages show a banner")
    last_beat_at = serializers.DateTimeField(allow_null=True)
    waiting = serializers.IntegerField(help_text="plan changes queued or running; webhook deliveries due")
    workers = WorkerSerializer(many=True, help_text="those heard from in the last day, the latest first")


class WorkersSerializer(serializers.Serializer):
    checked_at = serializers.DateTimeField()
    silence_seconds = serializers.FloatField()
    queues = QueueWorkersSerializer(many=True)
