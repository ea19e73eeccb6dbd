"""Invoice payers pay by habit as the days pass (DESIGN.md "Time and the subscription lifecycle",
payments by habit).

Every billing profile, and every tenant paying invoices that no profile pays (``InvoicePayer``; no row:
on time), has a payment habit: ``on_time`` pays an invoice on its due date, ``late`` the set number of
days after it, ``never`` leaves it to the admin's Pay now / Settle balance. An invoice is paid on its
payer's day, each invoice one payment, audited as the tenant's (``invoice.paid``, the verb of the admin
paying). A card's invoices aren't here: the card is charged on the due date (``card_charges_run``).

Set-based: the payers' distinct delays (at most 365, whatever the number of tenants) make one filter,
so a day costs the same few queries for 2 tenants as for 20,000. A pay day the loop has already passed
(an invoice a scenario file states as past due, a habit changed after the day) is missed: the admin
pays it."""

from datetime import date, timedelta
from functools import reduce
from operator import or_

from django.db.models import Case, F, Min, Q, Value, When
from django.db.models.functions import Coalesce

from billing.models import BillingProfile, Invoice, InvoicePayer, PaymentHabit
from billing.money import money
from billing.texts import PAID_BY_HABIT
from billing.verbs import INVOICE_PAID
from portal.happenings import Happening, Kind
from portal.selectors import within
from portal.services import event_build_of, events_record
from portal.texts import Text

# Who paid, on the audit trail: the tenant itself (the event names its billing profile or its name).
PAYER_ACTOR = "tenant"

_LATE = PaymentHabit.LATE
# How many days after the due date an invoice's payer pays it (0: on time); the profile's habit, else the
# tenant's as invoice payer.
_DELAY = Case(
    When(billing_profile__isnull=False, billing_profile__payment_habit=_LATE,
         then=F("billing_profile__payment_delay_days")),
    When(billing_profile__isnull=True, tenant__invoice_payer__payment_habit=_LATE,
         then=F("tenant__invoice_payer__payment_delay_days")),
    default=Value(0),
)


_HABIT = Case(When(billing_profile__isnull=False, then=F("billing_profile__payment_habit")),
              default=Coalesce(F("tenant__invoice_payer__payment_habit"), Value(PaymentHabit.ON_TIME)))


def habit_pay_days(invoices, *, today: date) -> dict[int, date | None]:
    """For each of ``invoices`` (a queryset), the day its payer's habit pays it, while that day is still to come
    after ``today`` (the last day applied); None when nobody will pay it by habit (``never``, or its pay day
    already passed: the admin pays it). One query."""
    days = {}
    for pk, due, delay, habit in (invoices.annotate(delay=_DELAY, habit=_HABIT).order_by()
                                  .values_list("pk", "due_date", "delay", "habit")):
        day = due + timedelta(days=delay)
        days[pk] = day if habit != PaymentHabit.NEVER and day > today else None
    return days


def _unpaid():
    """Invoices a payer pays (not a card's) with a balance left."""
    return Invoice.objects.filter(payment_method__isnull=True, total__gt=F("paid"))


def _delays() -> list[int]:
    """The delays of the payers that pay at all: 0 (on time) and each late payer's number of days, once."""
    late = (BillingProfile.objects.filter(payment_habit=_LATE).order_by().values_list("payment_delay_days")
            .union(InvoicePayer.objects.filter(payment_habit=_LATE).order_by().values_list("payment_delay_days")))
    return [0, *sorted(n for (n,) in late)]


def _paid_after(delay: int) -> Q:
    """Invoices whose payer pays them ``delay`` days after their due date (0: on time)."""
    habit = _LATE if delay else PaymentHabit.ON_TIME
    tenant = Q(billing_profile__isnull=True, tenant__invoice_payer__payment_habit=habit,
               tenant__invoice_payer__payment_delay_days=delay)
    if not delay:
        tenant |= Q(billing_profile__isnull=True, tenant__invoice_payer__isnull=True)  # no row: on time
    return Q(billing_profile__payment_habit=habit, billing_profile__payment_delay_days=delay) | tenant


def _paid_on_days(delays: list[int], after: date, until: date | None = None) -> Q:
    """Invoices paid by habit on a day after ``after`` (up to ``until``)."""
    return reduce(or_, (_paid_after(n) & Q(due_date__gt=after - timedelta(days=n))
                        & (Q(due_date__lte=until - timedelta(days=n)) if until else Q()) for n in delays))


def habit_payments_next_due(after: date) -> date | None:
    """The first day after ``after`` on which a payer pays an invoice by habit (two queries)."""
    found = (_unpaid().filter(_paid_on_days(_delays(), after)).annotate(delay=_DELAY).values("delay")
             .annotate(first=Min("due_date")).values_list("delay", "first"))
    days = [first + timedelta(days=delay) for delay, first in found]
    return min(days) if days else None


def habit_payments_due(*, day: date, since: date, tenants=None):
    """The invoices their payers pay by habit on the days after ``since`` up to ``day``."""
    return _unpaid().filter(_paid_on_days(_delays(), since, day), **within(tenants))


def habit_payments_run(*, day: date, since: date, tenants=None) -> list[Happening]:
    """The invoices their payers pay by habit on the days after ``since`` up to ``day`` (the last day
    applied was ``since``), each its own payment of the whole balance: one statement for the day's
    payments, one for their audit events."""
    due = list(habit_payments_due(day=day, since=since, tenants=tenants)
               .select_for_update(of=("self",)).order_by("due_date", "pk")
               .annotate(delay=_DELAY, payer=Coalesce(F("billing_profile__name"), F("tenant__name")))
               .values_list("pk", "tenant_id", "tenant__domain", "number", "due_date", "total", "paid", "delay",
                            "payer"))  # as values, locked: no row becomes an object
    happened, events = [], []
    for pk, tenant_id, domain, number, due_date, total, paid, delay, payer in due:
        amount, on = total - paid, due_date + timedelta(days=delay)
        events.append(event_build_of(tenant_id=tenant_id, actor=PAYER_ACTOR, verb=INVOICE_PAID, model=Invoice, pk=pk,
                                     data={"number": number, "amount": str(amount), "payer": payer,
                                           "due": due_date.isoformat(), "days_late": delay}))
        happened.append(Happening(on, Kind.INVOICE_PAYMENT, tenant_id, domain, number,
                                  Text(PAID_BY_HABIT, amount=money(amount), payer=payer, days=delay, due=due_date),
                                  f"invoice/{number}"))
    if due:
        Invoice.objects.filter(pk__in=[row[0] for row in due]).update(**Invoice.PAID_IN_FULL)  # locked
        events_record(events=events)
    return happened
