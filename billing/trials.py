"""Trials as the days pass (DESIGN.md "Time and the subscription lifecycle"; Microsoft's "Try or buy a
Microsoft 365 subscription" and "Extend your trial").

A trial lasts one month from its start; its end is a fact on its row (``Subscription.trial_ends_on``), moved
once by 30 days when an admin extends it. A trial isn't billed (``billed_until`` is empty) until it converts.
On its end date, with a payment method on file (MOSA: the subscription's or the tenant's payment method;
MCA: the billing profile) and recurring billing on, it converts to a paid subscription of the same plan and
offer: billing starts that day, so the day loop's billing periods (``billing.lifecycle``, called after this)
charge its first period the same day. Otherwise it expires into the lifecycle: Expired (30 days, users keep
service) → Disabled → Deleted.
"""

from dataclasses import dataclass
from datetime import date, timedelta

from billing.lifecycle import EXPIRED_DAYS, _happening
from billing.models import BillingProfile, PaymentKind, PaymentMethod, Subscription
from billing.periods import add_months
from billing.texts import TRIAL_CONVERTED, TRIAL_EXPIRED
from billing.verbs import SUBSCRIPTION_TRIAL_CONVERTED, SUBSCRIPTION_TRIAL_EXPIRED
from portal.bulk import rows_update
from portal.happenings import Happening, Kind
from portal.selectors import within
from portal.services import event_build, events_record
from portal.texts import Text

Status = Subscription.Status
TRIAL_MONTHS = 1  # "25 user licenses for a one-month term"
TRIAL_EXTENSION_DAYS = 30  # "extend your trial for another 30-day period. You can only do this one time."
TRIAL_EXTEND_WITHIN_DAYS = 15  # "If your trial subscription is within 15 days of expiring"


def trial_end_for(start: date) -> date:
    """The day a trial started on ``start`` ends (before any extension)."""
    return add_months(start, TRIAL_MONTHS)


@dataclass(frozen=True)
class Payer:
    """How a trial that converts is paid: a billing profile (MCA) or a payment method (MOSA)."""

    payment: str
    method: PaymentMethod | None
    profile: BillingProfile | None


@dataclass
class Payers:
    """Each tenant's billing profile and payment method (its default first), read once for many trials."""

    profiles: dict[int, BillingProfile]
    methods: dict[int, PaymentMethod]

    @classmethod
    def of(cls, tenant_ids) -> "Payers":
        profiles: dict[int, BillingProfile] = {}
        for profile in BillingProfile.objects.filter(tenant_id__in=tenant_ids).order_by("pk"):
            profiles.setdefault(profile.tenant_id, profile)
        methods: dict[int, PaymentMethod] = {}
        for method in PaymentMethod.objects.filter(tenant_id__in=tenant_ids).order_by("-is_default", "pk"):
            methods.setdefault(method.tenant_id, method)
        return cls(profiles, methods)

    def payer(self, sub: Subscription) -> Payer | None:
        """The payment on file for ``sub``, or None when there is none: MCA pays through its billing profile,
        MOSA with the subscription's payment method or else the tenant's default one."""
        method = sub.payment_method if sub.payment_method_id else self.methods.get(sub.tenant_id)
        if sub.tenant.has_billing_profile:
            profile = sub.billing_profile if sub.billing_profile_id else self.profiles.get(sub.tenant_id)
            if profile is None:
                return None
            by_card = method is not None and PaymentKind.CARD == profile.payment == method.kind
            return Payer(profile.payment, method if by_card else None, profile)
        return Payer(method.kind, method, None) if method is not None else None


def trial_convert(sub: Subscription, *, on: date, payer: Payer) -> None:
    """Make the trial ``sub`` a paid subscription of the same plan and offer from ``on`` (in memory; the
    caller saves it and bills its first period, which begins ``on``): a new term starts that day."""
    sub.source = Subscription.Source.DIRECT
    sub.start_date = on
    sub.trial_ends_on = on
    sub.status, sub.status_until, sub.cancelled_on = Status.ACTIVE, None, None
    sub.recurring_billing = True
    sub.payment, sub.payment_method, sub.billing_profile = payer.payment, payer.method, payer.profile
    sub.billed_until, sub.billed_amount = on, None


CONVERT_FIELDS = ["source", "start_date", "trial_ends_on", "status", "status_until", "cancelled_on",
                  "recurring_billing", "payment", "payment_method", "billing_profile", "billed_until", "billed_amount"]


def _trial_ended(sub: Subscription, *, payer: Payer | None, actor: str) -> tuple[Happening, object]:
    """One trial at its end: converted with ``payer``, else expired (in memory; the audit row unwritten)."""
    on = sub.trial_ends_on
    if payer is not None:
        trial_convert(sub, on=on, payer=payer)
        event = event_build(tenant=sub.tenant, actor=actor, verb=SUBSCRIPTION_TRIAL_CONVERTED, obj=sub,
                            data={"on": on.isoformat(), "payment": payer.payment})
        return _happening(on, Kind.TRIAL_CONVERTED, sub, Text(TRIAL_CONVERTED, date=on)), event
    sub.status, sub.status_until = Status.EXPIRED, on + timedelta(days=EXPIRED_DAYS)
    reason = "recurring_billing_off" if not sub.recurring_billing else "no_payment_method"
    event = event_build(tenant=sub.tenant, actor=actor, verb=SUBSCRIPTION_TRIAL_EXPIRED, obj=sub, data={
        "on": on.isoformat(), "disabled_on": sub.status_until.isoformat(), "reason": reason})
    detail = Text(TRIAL_EXPIRED, date=sub.status_until, reason=reason)
    return _happening(on, Kind.TRIAL_EXPIRED, sub, detail), event


def trials_due(*, day: date, tenants=None):
    """Active trials whose end date has come by ``day`` and that nothing holds."""
    return Subscription.objects.filter(status=Status.ACTIVE, source=Subscription.Source.TRIAL, trial_ends_on__lte=day,
                                       held_by="", **within(tenants))


def trials_end_run(*, day: date, actor: str = "system", tenants=None) -> list[Happening]:
    """Every active trial whose end date has come by ``day`` (and that nothing holds) converts or expires.
    Set-based: the trials, the tenants' ways to pay, the rows and the audit events are read and written in
    one statement each, however many tenants. Call before the day's billing periods: a trial converted
    today is charged its first period by them, today."""
    due = list(trials_due(day=day, tenants=tenants).select_for_update(of=("self",))
               .select_related("tenant", "product", "billing_profile", "payment_method").order_by("pk"))
    if not due:
        return []
    payers = Payers.of({sub.tenant_id for sub in due})
    happened, events = [], []
    for sub in due:
        happening, event = _trial_ended(sub, payer=payers.payer(sub) if sub.recurring_billing else None,
                                        actor=actor)
        happened.append(happening)
        events.append(event)
    rows_update(due, CONVERT_FIELDS)
    events_record(events=events)
    return happened

