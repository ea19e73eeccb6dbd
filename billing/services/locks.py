"""The hold and the lock order: subscription rows locked by ascending id, and held read-only by a
plan change that is queued or running."""

from django.db import transaction
from django.utils.translation import gettext as _

from billing.models import Subscription
from portal.bulk import rows_update
from portal.errors import Conflict, NotFound
from portal.inputs import parse_id


def subscriptions_lock(*, tenant, subscription_ids) -> dict[int, Subscription]:
    """The tenant's subscriptions with these ids, row-locked for the rest of the transaction.

    **The lock order, everywhere:** subscription rows first, in ascending id order (this
    function), then the plan change (planchange locks it after calling this), then invoices.
    Two transactions that follow it wait for each other instead of deadlocking. A missing or
    foreign id is the same 404, and ids are taken only as whole numbers within the database's
    range (never ``int('٤')``, never an overflow).
    """
    wanted = {parse_id(i) for i in subscription_ids}
    if None in wanted:
        raise NotFound(_("No such subscription."), code="subscription_not_found")
    subs = {
        s.pk: s for s in Subscription.objects.select_for_update(of=("self",)).select_related("product", "tenant")
        .filter(tenant=tenant, pk__in=wanted).order_by("pk")
    }
    if set(subs) != wanted:
        raise NotFound(_("No such subscription."), code="subscription_not_found")
    return subs


def subscriptions_lock_across(*, subscription_ids) -> list[Subscription]:
    """Subscriptions of any tenants, row-locked in the one lock order (ascending id): for the day loop,
    which acts for every tenant at once (ids it read itself, never a request's)."""
    return list(Subscription.objects.select_for_update(of=("self",)).select_related("tenant")
                .filter(pk__in=list(subscription_ids)).order_by("pk"))


def subscriptions_lock_all(*, tenant) -> list[Subscription]:
    """Every subscription of the tenant, row-locked in the one lock order (ascending id): before the tenant's
    rows are swapped whole (an import's replace)."""
    return list(Subscription.objects.select_for_update(of=("self",)).filter(tenant=tenant).order_by("pk"))


def subscription_lock(*, tenant, subscription_id) -> Subscription:
    """The tenant's subscription, row-locked for the rest of the transaction (404 otherwise)."""
    (sub,) = subscriptions_lock(tenant=tenant, subscription_ids=[subscription_id]).values()
    return sub


def subscription_require_free(sub: Subscription, *, holder: str = "") -> None:
    """Refuse an edit of a subscription that a change holds read-only (409 ``change_in_progress``),
    unless the caller is that holder. Call with the row locked, in the transaction that writes."""
    if sub.held_by and sub.held_by != holder:
        raise Conflict(_("A plan change involving %(product)s is under way; the subscription can't be edited "
                         "until the change finishes.") % {"product": sub.product.name}, code="change_in_progress",
                       subscription=sub.pk)


@transaction.atomic
def subscription_hold(*, tenant, subscription_id, holder: str) -> Subscription:
    """Make the subscription read-only for everyone but ``holder`` (a plan change that is queued
    or running). Holding it again for the same holder is a no-op; another holder is a 409."""
    return subscription_hold_locked(subscription_lock(tenant=tenant, subscription_id=subscription_id), holder=holder)


def subscription_hold_locked(sub: Subscription, *, holder: str) -> Subscription:
    """``subscription_hold`` of a subscription the caller locked in this transaction already."""
    subscription_require_free(sub, holder=holder)
    if sub.held_by != holder:
        sub.held_by = holder
        sub.save(update_fields=["held_by"])
    return sub


def subscriptions_hold_locked(*, holds: list[tuple[Subscription, str, bool]]) -> None:
    """``subscription_hold_locked`` of many subscriptions the caller locked in this transaction, in
    order, written in one statement: each ``(subscription, holder, required)``; one another holds is a
    409 when ``required``, else left to its holder."""
    changed = []
    for sub, holder, required in holds:
        if not required and sub.held_by and sub.held_by != holder:
            continue
        subscription_require_free(sub, holder=holder)
        if sub.held_by != holder:
            sub.held_by = holder
            changed.append(sub)
    rows_update(list({sub.pk: sub for sub in changed}.values()), ["held_by"])


def subscriptions_release(*, holder: str) -> int:
    """Every subscription ``holder`` held is editable again (call inside the holder's transaction,
    with the rows locked)."""
    return Subscription.objects.filter(held_by=holder).update(held_by="")


def subscriptions_release_all(*, holders) -> int:
    """``subscriptions_release`` of many holders (the day's scheduled changes run together), in one statement."""
    return Subscription.objects.filter(held_by__in=list(holders)).update(held_by="")
