"""Billing as the days pass (DESIGN.md "Time and the subscription lifecycle").

Each function applies what falls due on one simulation ``day`` and answers what happened
(``portal.happenings.Happening``), in the order the day loop (``simulation.days``) calls
them. Everything is keyed by dates, never by when the code runs, so a jump of two years equals
730 jumps of a day: a period's invoice is dated the period's first day, a stage of the lifecycle
starts on the date the previous one set.

- **Billing periods**: an active subscription is charged for each period as the day reaches its
  start (``billed_until``). MOSA: an invoice of its own dated that day (a card is charged the day
  after, an invoice payer has 30 days); MCA: a line on the billing profile's monthly invoice of
  the 1st (net 30). At the end of a term, recurring billing on renews it (the same offer);
  off, it expires.
- **Lifecycle** (Microsoft's "What happens to my data and access when my subscription ends"):
  Expired (30 days, users keep service) → Disabled (90 days, only admins reach the data) →
  Deleted (planchange's day loop has licensing remove the licenses first).
- Provisioning that has had its time, card charges and refunds due, invoices falling past due.
- Trials that end (``billing.trials``): converted to paid or expired, before the day's billing periods.
"""

from datetime import date, datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import F, Min, Q
from django.utils.translation import gettext as _

from billing import texts
from billing.due import card_charges_due, disabled_due, expired_due, overdue_due, periods_due, refunds_due
from billing.habits import habit_payments_next_due
from billing.invoicing import lines_bill
from billing.models import Invoice, Subscription
from billing.money import money
from billing.offers import catalog_memo
from billing.period_invoices import PeriodInvoices
from billing.periods import period_end, term_ends_on
from billing.proration import Side
from billing.selectors import SUBSCRIPTION_MISSING, offer_of
from billing.texts import happening_subject, period_text
from billing.verbs import (
    INVOICE_OVERDUE,
    INVOICE_PAID,
    INVOICE_REFUNDED,
    SUBSCRIPTION_DELETED,
    SUBSCRIPTION_DISABLED,
    SUBSCRIPTION_EXPIRED,
    SUBSCRIPTION_LICENSES_CHANGED,
    SUBSCRIPTION_PROVISIONING_FINISHED,
    SUBSCRIPTION_RENEWED,
)
from portal import clock
from portal.bulk import rows_update
from portal.errors import Conflict
from portal.happenings import Happening, Kind
from portal.selectors import object_get
from portal.services import event_build, event_build_of, event_record, events_record, support_reason_clean
from portal.texts import Text

Status = Subscription.Status
ZERO = Decimal("0.00")
EXPIRED_DAYS = 30  # users keep service
DISABLED_DAYS = 90  # only admins reach the data


def _happening(day: date, kind: str, obj: Invoice | Subscription, detail: Text) -> Happening:
    """What happened to an invoice (said by its number) or a subscription (by its product and licenses)."""
    tenant = obj.tenant
    # An invoice by its number: a dry run's invoices never get the ids it would show.
    if isinstance(obj, Invoice):
        return Happening(day, kind, tenant.pk, tenant.domain, obj.number, detail, f"invoice/{obj.number}")
    return Happening(day, kind, tenant.pk, tenant.domain, happening_subject(obj), detail, f"subscription/{obj.pk}")


# --- When is something next due ---------------------------------------------------------


def next_due(after: date) -> date | None:
    """The first day after ``after`` on which billing has something to do, or None: one query for the
    subscriptions' due dates and one for the invoices' (each kind its own filtered MIN), two for payments by
    habit, however many tenants (a day when nothing falls due costs nothing)."""
    next_day = after + timedelta(days=1)
    active, ended = Q(status=Status.ACTIVE), Q(status__in=(Status.EXPIRED, Status.DISABLED))
    provisioning = Q(provisioning=Subscription.Provisioning.PROVISIONING, provisioning_until__isnull=False)
    subs = Subscription.objects.filter(active | ended | provisioning).aggregate(
        billed=Min("billed_until", filter=active & Q(billed_until__gt=after)),
        ends=Min("status_until", filter=ended & Q(status_until__gt=after)),
        provisioned=Min("provisioning_until", filter=provisioning),
        trial_end=Min("trial_ends_on", filter=active & Q(source=Subscription.Source.TRIAL)),
        # Left behind (a plan change held the subscription over its date): due again the next day.
        billed_behind=Min("billed_until", filter=active & Q(billed_until__lte=after, held_by="")),
        ended_behind=Min("status_until", filter=ended & Q(status_until__lte=after)),
    )
    unpaid, refund = Q(total__gt=F("paid")), Q(refund__gt=0, refunded=False)
    invoices = Invoice.objects.filter(unpaid | refund).aggregate(
        charge=Min("due_date", filter=unpaid & Q(payment_method__isnull=False, due_date__gt=after)),
        refund_next=Min("refund_on", filter=refund & Q(refund_on__gt=after)),  # not "refund": the field's name
        # Not yet told past due: the day after its due date (one billed after that day: the next day).
        overdue_from=Min("due_date", filter=unpaid & Q(payment_method__isnull=True, past_due_noted=False)),
        # Left behind (billed after their day was applied: a plan change gave its subscription back): the next day.
        charge_behind=Min("due_date", filter=unpaid & Q(payment_method__isnull=False, due_date__lte=after)),
        refund_behind=Min("refund_on", filter=refund & Q(refund_on__lte=after)),
    )
    candidates = [subs["billed"], subs["ends"], invoices["charge"], invoices["refund_next"]]
    if invoices["overdue_from"] is not None:
        candidates.append(max(invoices["overdue_from"] + timedelta(days=1), next_day))
    candidates.append(habit_payments_next_due(after))  # invoice payers paying by habit
    if subs["provisioned"] is not None:
        candidates.append(max(subs["provisioned"].date(), next_day))
    if subs["trial_end"] is not None:  # a trial converts or expires (billing.trials); one left behind, the next day
        candidates.append(max(subs["trial_end"], next_day))
    behind = (subs["billed_behind"], subs["ended_behind"], invoices["charge_behind"], invoices["refund_behind"])
    if any(d is not None for d in behind):
        candidates.append(next_day)
    due = [d for d in candidates if d is not None and d > after]
    return min(due) if due else None


# --- Provisioning -------------------------------------------------------------------------


def provisioning_time() -> timedelta:
    return timedelta(minutes=settings.PORTAL_PROVISIONING_MINUTES)


def _provisioned(sub: Subscription, *, day: date, actor: str, reason: str, support_reason: str = "") -> Happening:
    sub.provisioning = Subscription.Provisioning.PROVISIONED
    sub.provisioning_until = None
    sub.save(update_fields=["provisioning", "provisioning_until"])
    event_record(tenant=sub.tenant, actor=actor, verb=SUBSCRIPTION_PROVISIONING_FINISHED, obj=sub,
                 data={"reason": reason, **({"support_reason": support_reason} if support_reason else {})})
    return _happening(day, Kind.PROVISIONED, sub, Text(texts.PROVISIONED))


def provisioning_finish_due(*, day: date, until: datetime) -> list[Happening]:
    """Subscriptions being set up whose time is up by ``until`` are provisioned."""
    due = (Subscription.objects.select_for_update(of=("self",)).select_related("tenant", "product")
           .filter(provisioning=Subscription.Provisioning.PROVISIONING, provisioning_until__lte=until)
           .order_by("pk"))
    return [_provisioned(sub, day=day, actor="system", reason="set-up time passed") for sub in due]


@transaction.atomic
def subscription_provisioning_finish(*, subscription_id, actor: str, reason: str = "",
                                     reason_required: bool = False) -> Subscription:
    """Support staff finish a subscription's set-up now (``reason`` on the audit event)."""
    sub = object_get(Subscription.objects.select_for_update(of=("self",)).select_related("tenant", "product"),
                     subscription_id, SUBSCRIPTION_MISSING)
    reason = support_reason_clean(reason, required=reason_required)
    if sub.provisioning != Subscription.Provisioning.PROVISIONING:
        raise Conflict(_("The subscription is already fully set up."), code="already_provisioned")
    _provisioned(sub, day=clock.today(), actor=actor, reason="finished by support", support_reason=reason)
    return sub


# --- Billing periods and renewal -------------------------------------------------------------


def period_key(subscription_id: int, begin: date) -> str:
    """The idempotency key of a subscription's invoice line for the period beginning ``begin``."""
    return f"subscription/{subscription_id}/period/{begin:%Y-%m-%d}"


def period_charge(sub: Subscription, *, begin: date, offers: dict | None = None) -> tuple[dict | None, date]:
    """The line charging the period of ``sub`` that begins on ``begin`` (the catalog offer's price
    today), and the period's end; None for what isn't billed here (trials, product keys, resellers)."""
    end = period_end(start=sub.start_date, billing_frequency=sub.billing_frequency, term=sub.term, begin=begin)
    if sub.source != Subscription.Source.DIRECT:
        return None, end
    offer = offer_of(sub, offers)
    if offer is None:
        return None, end
    side = Side.of(sub, offer.price)
    text = period_text(product=sub.product.name, licenses=sub.licenses, start=begin, end=end)
    line = {**text.stored(), "amount": money(side.period_charge), "start": begin, "end": end, "subscription": sub,
            "idempotency_key": period_key(sub.pk, begin)}
    return line, end


def _invoiced(begin: date, line: dict, invoice: Invoice) -> Happening:
    return _happening(begin, Kind.INVOICE, invoice, Text(
        texts.INVOICED, **line["params"], line=line["text"], amount=line["amount"], number=invoice.number,
        date=invoice.date, due=invoice.due_date))


def period_bill(sub: Subscription, *, begin: date, offers: dict, actor: str,
                batch: PeriodInvoices | None = None) -> list:
    """Charge the period beginning ``begin`` and move ``billed_until`` to its end. With ``batch`` the
    line is posted with the day's others at its ``flush``, and the happening is answered as a callable
    to call after it (the invoice it went on is known then)."""
    line, end = period_charge(sub, begin=begin, offers=offers)
    happened: list = []
    if line is not None:
        key, number = f"subscription/{sub.pk}/{begin:%Y-%m-%d}", f"INV-{begin:%Y%m%d}-P{sub.pk:05d}"
        if batch is not None:
            posting = batch.add(tenant=sub.tenant, billing_profile=sub.billing_profile, card=sub.paying_card,
                                effective=begin, key=key, number=number, lines=[line])
            happened.append(lambda: _invoiced(begin, line, posting.invoice))
        else:
            invoice = lines_bill(tenant=sub.tenant, billing_profile=sub.billing_profile, card=sub.paying_card,
                                 effective=begin, key=key, number=number, lines=[line], actor=actor,
                                 charge_later=True)
            happened.append(_invoiced(begin, line, invoice))
    sub.billed_until = end
    sub.billed_amount = line["amount"] if line is not None else None
    return happened


_PERIOD_FIELDS = ["status", "status_until", "billed_until", "billed_amount", "licenses", "licenses_at_renewal"]


def billing_periods_run(*, day: date, actor: str = "system", subscription_ids=None, tenants=None) -> list[Happening]:
    """Every active subscription whose next period has begun by ``day`` (and that no plan change
    holds: the change bills it) is renewed or expired at a term's end, and charged per period.

    Set-based, for every kind of payer: the invoices (MOSA's own, billing profiles' monthly ones),
    their lines, the account credit they take and every audit event are written in a few statements
    (``PeriodInvoices``), the subscriptions in one. ``subscription_ids``: only those (a plan change
    giving back the subscriptions it held over billing dates)."""
    happened: list = []
    memo = catalog_memo()
    offers: dict = memo if memo is not None else {}  # a pinned catalog's memo (a clock move), else this run's
    due = (periods_due(day=day, tenants=tenants).select_for_update(of=("self",))
           .select_related("tenant", "product", "billing_profile", "payment_method").order_by("pk"))
    if subscription_ids is not None:  # only these: lock nobody else's rows
        due = due.filter(pk__in=subscription_ids)
    due = list(due)
    if not due:
        return happened
    batch = PeriodInvoices(actor=actor)
    for sub in due:
        while sub.status == Status.ACTIVE and sub.billed_until is not None and sub.billed_until <= day:
            begin = sub.billed_until
            if term_ends_on(start=sub.start_date, term=sub.term, day=begin):
                if not sub.recurring_billing:
                    happened.append(_expire(sub, on=begin, actor=actor, record=batch.event))
                    break
                batch.event(tenant=sub.tenant, actor=actor, verb=SUBSCRIPTION_RENEWED, obj=sub,
                            data={"term_start": begin.isoformat(), "term": sub.term})
                happened.append(_happening(begin, Kind.RENEWAL, sub, Text(texts.RENEWED, date=begin)))
                if sub.licenses_at_renewal is not None:
                    happened.append(_licenses_removed_at_renewal(sub, on=begin, actor=actor, record=batch.event))
            happened += period_bill(sub, begin=begin, offers=offers, actor=actor, batch=batch)
    batch.flush()
    rows_update(due, _PERIOD_FIELDS)
    return [h() if callable(h) else h for h in happened]


def _licenses_removed_at_renewal(sub: Subscription, *, on: date, actor: str, record=event_record) -> Happening:
    """A removal scheduled for the renewal takes effect: the new term is billed for fewer licenses
    (never below the licenses assigned since)."""
    before, licenses = sub.licenses, max(sub.licenses_at_renewal, sub.assigned_licenses, 1)
    sub.licenses, sub.licenses_at_renewal = licenses, None
    record(tenant=sub.tenant, actor=actor, verb=SUBSCRIPTION_LICENSES_CHANGED, obj=sub,
           data={"from": before, "to": licenses, "at_renewal": on.isoformat()})
    return _happening(on, Kind.RENEWAL, sub, Text(texts.LICENSES_AT_RENEWAL, before=before,
                                                                  after=licenses))


def _expire(sub: Subscription, *, on: date, actor: str, record=event_record) -> Happening:
    sub.licenses_at_renewal = None  # no renewal: nothing left to remove at it
    sub.status = Status.EXPIRED
    sub.status_until = on + timedelta(days=EXPIRED_DAYS)
    sub.billed_until = None
    sub.billed_amount = None
    record(tenant=sub.tenant, actor=actor, verb=SUBSCRIPTION_EXPIRED, obj=sub,
                 data={"on": on.isoformat(), "disabled_on": sub.status_until.isoformat()})
    return _happening(on, Kind.EXPIRED, sub, Text(texts.EXPIRED, date=sub.status_until))


# --- Lifecycle -----------------------------------------------------------------------------------


def lifecycle_run(*, day: date, actor: str = "system", tenants=None) -> tuple[list[Happening], list[Subscription]]:
    """Expired subscriptions whose 30 days are up are disabled; Disabled ones whose 90 days are up
    are answered for deletion (licensing removes their licenses, then ``subscriptions_delete``)."""
    happened = []
    expired = list(expired_due(day=day, tenants=tenants).select_for_update(of=("self",))
                   .select_related("tenant", "product").order_by("pk"))
    events = []
    for sub in expired:
        on = sub.status_until
        sub.status = Status.DISABLED
        sub.status_until = on + timedelta(days=DISABLED_DAYS)
        events.append(event_build(tenant=sub.tenant, actor=actor, verb=SUBSCRIPTION_DISABLED, obj=sub,
                                  data={"on": on.isoformat(), "deleted_on": sub.status_until.isoformat()}))
        happened.append(_happening(on, Kind.DISABLED, sub, Text(texts.DISABLED, date=sub.status_until)))
    if expired:
        rows_update(expired, ["status", "status_until"])
        events_record(events=events)
    to_delete = list(disabled_due(day=day, tenants=tenants).select_for_update(of=("self",))
                     .select_related("tenant", "product").order_by("pk"))
    return happened, to_delete


def subscriptions_delete(subs: list[Subscription], *, removed: dict[int, int],
                         actor: str = "system") -> list[Happening]:
    """The last stage: the subscriptions are deleted (their licenses already removed by licensing,
    ``removed`` of each by id), in one statement, their audit events in one."""
    happened, events = [], []
    for sub in subs:
        on, count = sub.status_until, removed.get(sub.pk, 0)
        sub.status, sub.status_until = Status.DELETED, None
        events.append(event_build(tenant=sub.tenant, actor=actor, verb=SUBSCRIPTION_DELETED, obj=sub,
                                  data={"on": on.isoformat(), "licenses_removed": count}))
        happened.append(_happening(on, Kind.DELETED, sub, Text(texts.DELETED, count=count)))
    rows_update(subs, ["status", "status_until"])
    events_record(events=events)
    return happened


# --- Payments ------------------------------------------------------------------------------------


def _invoice_happening(on: date, kind: str, tenant_id: int, domain: str, number: str, detail: Text) -> Happening:
    """``_happening`` of an invoice read as values (by its number: a dry run's invoices never get the ids it
    would show)."""
    return Happening(on, kind, tenant_id, domain, number, detail, f"invoice/{number}")


def card_charges_run(*, day: date, actor: str = "system", tenants=None) -> list[Happening]:
    """Invoices paid by card are charged on their due date (the day after the invoice): the day's charges read
    (locked, as values: no row becomes an object) in one statement, paid in one, their audit events in one."""
    happened, events = [], []
    due = list(card_charges_due(day=day, tenants=tenants).select_for_update(of=("self",)).order_by("due_date", "pk")
               .values_list("pk", "tenant_id", "tenant__domain", "number", "due_date", "total", "paid",
                            "payment_method__last4"))
    for pk, tenant_id, domain, number, due_date, total, paid, last4 in due:
        amount = total - paid
        events.append(event_build_of(tenant_id=tenant_id, actor=actor, verb=INVOICE_PAID, model=Invoice, pk=pk,
                                     data={"number": number, "amount": str(amount), "card": last4}))
        happened.append(_invoice_happening(due_date, Kind.PAYMENT, tenant_id, domain, number, Text(
            texts.CARD_CHARGED, amount=money(amount), last4=last4)))
    if due:
        Invoice.objects.filter(pk__in=[row[0] for row in due]).update(paid=F("total"))  # locked: as read
        events_record(events=events)
    return happened


def refunds_run(*, day: date, actor: str = "system", tenants=None) -> list[Happening]:
    """Net credits paid back to the card reach it on their date."""
    happened, events = [], []
    due = list(refunds_due(day=day, tenants=tenants).select_for_update(of=("self",))
               .select_related("tenant", "payment_method").order_by("refund_on", "pk"))
    for invoice in due:
        invoice.refunded = True
        last4 = invoice.payment_method.last4 if invoice.payment_method else ""
        events.append(event_build(tenant=invoice.tenant, actor=actor, verb=INVOICE_REFUNDED, obj=invoice,
                                  data={"number": invoice.number, "amount": str(invoice.refund), "card": last4}))
        happened.append(_happening(invoice.refund_on, Kind.REFUND, invoice, Text(
            texts.REFUNDED, amount=money(invoice.refund), last4=last4)))
    if due:
        Invoice.objects.filter(pk__in=[invoice.pk for invoice in due]).update(refunded=True)
        events_record(events=events)
    return happened


def overdue_run(*, day: date, actor: str = "system", tenants=None) -> list[Happening]:
    """Invoices paid by invoice with a balance left whose due date passed before ``day`` fall past due: plan
    changes are blocked until they are paid (``unpaid_balance``). Each is told once, whenever it was made (one
    billed after its due date too), and marked told (``past_due_noted``) with its audit event: one statement
    reads them (locked, as values), one marks them, one writes their events."""
    happened, events = [], []
    due = list(overdue_due(day=day, tenants=tenants).select_for_update(of=("self",)).order_by("due_date", "pk")
               .values_list("pk", "tenant_id", "tenant__domain", "number", "due_date", "total", "paid"))
    for pk, tenant_id, domain, number, due_date, total, paid in due:
        balance = max(total - paid, ZERO)  # ``Invoice.balance``
        events.append(event_build_of(tenant_id=tenant_id, actor=actor, verb=INVOICE_OVERDUE, model=Invoice, pk=pk,
                                     data={"number": number, "balance": str(balance), "due": due_date.isoformat()}))
        happened.append(_invoice_happening(due_date + timedelta(days=1), Kind.OVERDUE, tenant_id, domain, number,
                                           Text(texts.FELL_PAST_DUE, balance=money(balance), due=due_date)))
    if due:
        Invoice.objects.filter(pk__in=[row[0] for row in due]).update(past_due_noted=True)  # locked: as read
        events_record(events=events)
    return happened
