"""Assign, unassign and replace licenses: all or nothing, audited, locked per subscription.

Locks are taken on the subscriptions involved, in id order, so two license changes on
the same subscriptions wait for each other instead of over-assigning.
"""

from django.db import IntegrityError, transaction
from django.db.models import Count
from django.utils.translation import gettext as _

from billing.models import Subscription
from licensing.models import DirectoryUser, LicenseAssignment
from portal.errors import Conflict, DomainError, NotFound, short_list
from portal.models import Tenant
from portal.services import event_record


def _lock_subscriptions(tenant: Tenant, ids) -> dict[int, Subscription]:
    try:
        ids = [int(i) for i in ids]
    except (TypeError, ValueError) as exc:
        raise NotFound(_("No such subscription."), code="subscription_not_found") from exc
    subs = {
        s.pk: s
        for s in Subscription.objects.select_for_update().filter(tenant=tenant, pk__in=set(ids)).order_by("pk")
    }
    missing = set(ids) - set(subs)
    if missing:
        raise NotFound(_("No such subscription."), code="subscription_not_found")
    return subs


def _users(tenant: Tenant, upns) -> list[DirectoryUser]:
    wanted = list(dict.fromkeys(u.strip().lower() for u in upns))
    if not wanted:
        raise DomainError(_("Choose at least one user."), code="no_users")
    users = list(DirectoryUser.objects.filter(tenant=tenant, upn__in=wanted))
    unknown = sorted(set(wanted) - {u.upn for u in users})
    if unknown:
        raise DomainError(_("These users aren't in your organization: %(users)s.") % {"users": short_list(unknown)},
                          code="unknown_users", users=unknown)
    return users


def _available(sub: Subscription) -> int:
    assigned = LicenseAssignment.objects.filter(subscription=sub).aggregate(n=Count("pk"))["n"]
    return sub.licenses - assigned


def _require_active(sub: Subscription) -> None:
    if sub.status != Subscription.Status.ACTIVE:
        raise DomainError(_("%(product)s isn't active.") % {"product": sub.product.name},
                          code="subscription_not_active")


@transaction.atomic
def license_assign(*, tenant: Tenant, subscription_id: int, upns, actor: str) -> int:
    """Give each user a license of the subscription; refuse all if there aren't enough."""
    (sub,) = _lock_subscriptions(tenant, [subscription_id]).values()
    _require_active(sub)
    users = _users(tenant, upns)
    holding = set(LicenseAssignment.objects.filter(subscription=sub, user__in=users).values_list("user_id", flat=True))
    new = [u for u in users if u.pk not in holding]
    available = _available(sub)
    if len(new) > available:
        raise DomainError(
            _("%(needed)d licenses are needed but only %(available)d are available.")
            % {"needed": len(new), "available": max(available, 0)},
            code="not_enough_licenses")
    LicenseAssignment.objects.bulk_create(LicenseAssignment(user=u, subscription=sub) for u in new)
    event_record(tenant=tenant, actor=actor, verb="licenses.assigned", obj=sub,
                 data={"users": [u.upn for u in new]})
    return len(new)


@transaction.atomic
def license_unassign(*, tenant: Tenant, subscription_id: int, upns, actor: str) -> int:
    """Take the subscription's license from each user; refuse all if one doesn't hold it."""
    (sub,) = _lock_subscriptions(tenant, [subscription_id]).values()
    users = _users(tenant, upns)
    assignments = LicenseAssignment.objects.filter(subscription=sub, user__in=users)
    holding = set(assignments.values_list("user_id", flat=True))
    without = sorted(u.upn for u in users if u.pk not in holding)
    if without:
        raise DomainError(_("These users don't have a license of %(product)s: %(users)s.")
                          % {"product": sub.product.name, "users": short_list(without)},
                          code="user_not_licensed", users=without)
    removed, _detail = assignments.delete()
    event_record(tenant=tenant, actor=actor, verb="licenses.unassigned", obj=sub,
                 data={"users": sorted(u.upn for u in users)})
    return removed


@transaction.atomic
def license_replace(*, tenant: Tenant, from_subscription_id: int, to_subscription_id: int, upns,
                    actor: str) -> int:
    """Move users from one subscription to another in one transaction: nobody is
    unlicensed in between, and nothing moves unless everyone can."""
    subs = _lock_subscriptions(tenant, [from_subscription_id, to_subscription_id])
    if len(subs) != 2:
        raise DomainError(_("Choose two different subscriptions."), code="same_subscription")
    source, target = subs[int(from_subscription_id)], subs[int(to_subscription_id)]
    _require_active(target)
    users = _users(tenant, upns)
    holding = set(LicenseAssignment.objects.filter(subscription=source, user__in=users)
                  .values_list("user_id", flat=True))
    without = sorted(u.upn for u in users if u.pk not in holding)
    if without:
        raise DomainError(_("These users don't have a license of %(product)s: %(users)s.")
                          % {"product": source.product.name, "users": short_list(without)},
                          code="user_not_licensed", users=without)
    already = set(LicenseAssignment.objects.filter(subscription=target, user__in=users)
                  .values_list("user_id", flat=True))
    new = [u for u in users if u.pk not in already]
    available = _available(target)
    if len(new) > available:
        raise DomainError(
            _("%(needed)d licenses are needed but only %(available)d are available.")
            % {"needed": len(new), "available": max(available, 0)},
            code="not_enough_licenses")
    LicenseAssignment.objects.bulk_create(LicenseAssignment(user=u, subscription=target) for u in new)
    LicenseAssignment.objects.filter(subscription=source, user__in=users).delete()
    event_record(tenant=tenant, actor=actor, verb="licenses.replaced", obj=target,
                 data={"users": sorted(u.upn for u in users), "from": source.pk, "to": target.pk})
    return len(users)


@transaction.atomic
def user_create(*, tenant: Tenant, upn: str, display_name: str, actor: str) -> DirectoryUser:
    """Add a person to the tenant's directory (unlicensed; assign licenses after)."""
    upn = upn.strip().lower()
    if upn.count("@") != 1 or upn.split("@")[1] != tenant.domain or not upn.split("@")[0]:
        raise DomainError(_("The user name must end with @%(domain)s.") % {"domain": tenant.domain}, field="upn")
    exists = Conflict(_("A user %(upn)s already exists.") % {"upn": upn}, code="user_exists")
    if DirectoryUser.objects.filter(upn=upn).exists():
        raise exists
    try:
        with transaction.atomic():  # two requests for one UPN at once: the database decides
            user = DirectoryUser.objects.create(tenant=tenant, upn=upn,
                                                display_name=(display_name.strip() or upn.split("@")[0])[:200])
    except IntegrityError as exc:
        raise exists from exc
    event_record(tenant=tenant, actor=actor, verb="user.created", obj=user, data={"upn": upn})
    return user
