"""A subscription's life as billing makes it: bought (Purchase services), provisioned by a plan
change, charged for its period, its licenses counted, and ended when a plan change replaced it."""

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from billing.invoicing import lines_bill
from billing.lifecycle import provisioning_time
from billing.models import PaymentMethod, Subscription
from billing.orders import first_period_key, order_check
from billing.periods import period_end
from billing.selectors import payment_method_get
from billing.services.locks import subscription_lock
from billing.services.payments import payment_chosen
from billing.verbs import SUBSCRIPTION_BOUGHT, SUBSCRIPTION_CANCELLED, SUBSCRIPTION_PROVISIONED
from portal import clock
from portal.bulk import rows_insert, rows_update
from portal.errors import Conflict, DomainError
from portal.services import event_build, event_record, events_record


def subscription_period_charged(*, subscription: Subscription, amount) -> None:
    """Record what the subscription's current period was charged (a plan change's bill step, for
    the subscription it made): a later credit never exceeds it. Call with the row locked."""
    Subscription.objects.filter(pk=subscription.pk).update(billed_amount=amount)
    subscription.billed_amount = amount


def subscriptions_update_charged(*, subscriptions: list[Subscription]) -> None:
    """``subscription_period_charged`` of many, each with its ``billed_amount`` set in memory: one statement."""
    rows_update(subscriptions, ["billed_amount"])


def subscription_usage_add(*, subscription: Subscription, delta: int) -> None:
    """Count licenses assigned (``delta`` > 0) or removed (< 0). Licensing calls this in the
    transaction that assigns or removes them, with the subscription locked."""
    if delta:
        Subscription.objects.filter(pk=subscription.pk).update(assigned_licenses=F("assigned_licenses") + delta)
        subscription.assigned_licenses += delta


def subscriptions_usage_add(*, subscriptions: list[Subscription], deltas: dict[int, int]) -> None:
    """``subscription_usage_add`` of many subscriptions in one statement (``deltas`` by id); call with
    the rows locked in this transaction, so their counts in memory are the database's."""
    changed = [sub for sub in subscriptions if deltas.get(sub.pk)]
    for sub in changed:
        sub.assigned_licenses += deltas[sub.pk]
    rows_update(changed, ["assigned_licenses"])


def _provisioned(*, tenant, product, licenses: int, term: str, billing_frequency: str, start_date, payment: str,
                 payment_method, billing_profile, holder: str) -> Subscription:
    """A plan change's new subscription, not written yet: held by ``holder`` from its first moment."""
    return Subscription(
        tenant=tenant, product=product, licenses=licenses, term=term, billing_frequency=billing_frequency,
        start_date=start_date, payment=payment, payment_method=payment_method, billing_profile=billing_profile,
        held_by=holder,
        billed_until=period_end(start=start_date, billing_frequency=billing_frequency, term=term, begin=start_date),
    )


def _provisioned_event(sub: Subscription, *, actor: str) -> dict:
    return {"tenant": sub.tenant, "actor": actor, "verb": SUBSCRIPTION_PROVISIONED, "obj": sub,
            "data": {"sku": sub.product.sku, "licenses": sub.licenses, "by": sub.held_by}}


@transaction.atomic
def subscription_provision(*, actor: str, **order) -> Subscription:
    """A subscription made by a plan change (``order``: ``_provisioned``'s arguments): created held by its
    ``holder`` so nobody else edits it before the change is done."""
    sub = _provisioned(**order)
    sub.save(force_insert=True)
    event_record(**_provisioned_event(sub, actor=actor))
    return sub


def subscriptions_provision(*, orders: list[dict], actor: str) -> list[Subscription]:
    """``subscription_provision`` of many (the day's scheduled changes run together): the subscriptions in one
    statement (with their ids), their audit events in one, in the orders' order. Call inside a transaction."""
    made = rows_insert([_provisioned(**order) for order in orders], ids=True)
    events_record(events=[event_build(**_provisioned_event(sub, actor=actor)) for sub in made])
    return made


def _end_replaced(sub: Subscription, *, holder: str, on, replaced_by: int) -> bool:
    """``sub`` (locked) cancelled in memory as replaced by ``replaced_by``: False when it already is. Only its
    holder may; one that still has licenses assigned is never cancelled."""
    if sub.held_by != holder:
        raise Conflict(_("The subscription isn't held by this change."), code="not_held")
    if sub.status == Subscription.Status.CANCELLED:
        return False
    if sub.assigned_licenses:
        raise Conflict(ngettext("%(count)d user still has a license of %(product)s.",
                                "%(count)d users still have licenses of %(product)s.", sub.assigned_licenses)
                       % {"count": sub.assigned_licenses, "product": sub.product.name}, code="licenses_assigned")
    sub.status = Subscription.Status.CANCELLED
    sub.cancelled_on = on
    sub.recurring_billing = False
    sub.billed_until = None
    sub.status_until = None
    sub.replaced_by_id = replaced_by
    return True


_ENDED_FIELDS = ["status", "cancelled_on", "recurring_billing", "billed_until", "status_until", "replaced_by"]


@transaction.atomic
def subscription_end_replaced(*, tenant, subscription_id, holder: str, on, replaced_by: int, reason: str,
                              actor: str) -> Subscription:
    """Cancel a subscription a change has replaced with ``replaced_by`` (its users already moved there)."""
    sub = subscription_lock(tenant=tenant, subscription_id=subscription_id)
    if _end_replaced(sub, holder=holder, on=on, replaced_by=replaced_by):
        sub.save(update_fields=_ENDED_FIELDS)
        event_record(tenant=tenant, actor=actor, verb=SUBSCRIPTION_CANCELLED, obj=sub, data={"reason": reason})
    return sub


def subscriptions_end_replaced(*, ends: list[dict], actor: str) -> None:
    """``subscription_end_replaced`` of many subscriptions the caller locked in this transaction (each end:
    ``subscription``, ``holder``, ``on``, ``replaced_by``, ``reason``): written in one statement, their audit
    events in one, in order."""
    ended, events = [], []
    for end in ends:
        sub = end["subscription"]
        if _end_replaced(sub, holder=end["holder"], on=end["on"], replaced_by=end["replaced_by"]):
            ended.append(sub)
            events.append(event_build(tenant=sub.tenant, actor=actor, verb=SUBSCRIPTION_CANCELLED, obj=sub,
                                      data={"reason": end["reason"]}))
    rows_update(ended, _ENDED_FIELDS)
    events_record(events=events)


@transaction.atomic
def subscription_buy(*, tenant, sku: str, licenses: int, term: str, billing_frequency: str, actor: str,
                     payment_method=None, order_token=None) -> Subscription:
    """Buy a subscription: active from today, its first billing period charged at once (MOSA:
    an invoice today; MCA: the billing profile's next monthly invoice). ``order_token``: the one-time
    token of the form that ordered it, unique per tenant (a second subscription with it is refused by
    the database)."""
    today = clock.today()
    order = order_check(sku=sku, licenses=licenses, term=term, billing_frequency=billing_frequency, day=today)
    product, term, billing_frequency = order.product, order.term, order.billing_frequency
    profile = tenant.billing_profiles.order_by("pk").first() if tenant.has_billing_profile else None
    method = None
    if profile is None:
        methods = PaymentMethod.objects.filter(tenant=tenant)
        method = (methods.filter(is_default=True).first() if payment_method in (None, "")
                  else payment_method_get(tenant=tenant, id=payment_method))
        if method is None:
            raise DomainError(_("Choose one of your organization's payment methods."),
                              code="unknown_payment_method", field="payment_method")
    sub = Subscription.objects.create(
        tenant=tenant, product=product, licenses=licenses, term=term, billing_frequency=billing_frequency,
        start_date=today, payment=profile.payment if profile else method.kind, payment_method=method,
        billing_profile=profile, provisioning=Subscription.Provisioning.PROVISIONING,
        provisioning_until=clock.now() + provisioning_time(), order_token=order_token,
    )
    line = order.first_period
    keyed = [line.as_invoice_line(subscription=sub, idempotency_key=first_period_key(sub.pk))]
    lines_bill(tenant=tenant, billing_profile=profile, card=method, effective=today, key=f"subscription/{sub.pk}",
               number=f"INV-{today:%Y%m%d}-S{sub.pk:05d}", lines=keyed, actor=actor)
    sub.billed_until = period_end(start=today, billing_frequency=billing_frequency, term=term, begin=today)
    sub.billed_amount = line.amount
    sub.save(update_fields=["billed_until", "billed_amount"])
    event_record(tenant=tenant, actor=actor, verb=SUBSCRIPTION_BOUGHT, obj=sub,
                 data={"sku": sku, "licenses": licenses, "term": term, "billing_frequency": billing_frequency})
    return sub


def subscription_purchase(*, tenant, sku: str, licenses: int, term: str, billing_frequency: str, order_token,
                          payment_choice: str, card: dict, actor: str) -> Subscription:
    """Purchase services' Buy, for the tenant's own organization: pay with one of its payment methods
    (``payment_choice``: an id) or a new card (``"new"``, with ``card``'s number, expiry and
    holder_name); an MCA tenant pays through its billing profile. One transaction: a refused order
    keeps no new card.

    The form's one-time ``order_token`` makes the order happen once: the same form sent again (a
    double click, a reload, the back button) answers the subscription it bought, with
    ``already_bought`` set, and writes nothing; two sends at the same moment are decided by the
    database (the token is unique per tenant): the second one's transaction, new card included, is
    rolled back whole and it answers the first one's subscription."""
    try:
        return _purchase(tenant=tenant, sku=sku, licenses=licenses, term=term, billing_frequency=billing_frequency,
                         order_token=order_token, payment_choice=payment_choice, card=card, actor=actor)
    except IntegrityError:
        bought = _bought_with(tenant=tenant, order_token=order_token)
        if bought is None:
            raise
        return bought


def _bought_with(*, tenant, order_token) -> Subscription | None:
    bought = Subscription.objects.select_related("product").filter(tenant=tenant, order_token=order_token).first()
    if bought is not None:
        bought.already_bought = True
    return bought


@transaction.atomic
def _purchase(*, tenant, sku, licenses, term, billing_frequency, order_token, payment_choice, card, actor):
    if order_token is None:
        raise DomainError(_("This order form has expired. Check the order and choose Buy again."),
                          code="invalid_order_token", field="form")
    bought = _bought_with(tenant=tenant, order_token=order_token)
    if bought is not None:
        return bought
    # The order first (the product, its licenses, its offer): what it refuses comes before how it is paid.
    order_check(sku=sku, licenses=licenses, term=term, billing_frequency=billing_frequency, day=clock.today())
    payment_method = payment_chosen(tenant=tenant, choice=payment_choice, card=card, actor=actor)
    sub = subscription_buy(tenant=tenant, sku=sku, licenses=licenses, term=term, billing_frequency=billing_frequency,
                           payment_method=payment_method, order_token=order_token, actor=actor)
    sub.already_bought = False
    return sub
