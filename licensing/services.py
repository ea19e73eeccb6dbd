"""Assign, unassign, replace and move licenses: all or nothing, audited.

Every service locks the subscriptions it touches through billing (rows in ascending id
order: the one lock order, see ``billing.services.subscriptions_lock``), refuses one that a
change holds read-only unless the caller is that change (409 ``change_in_progress``), and
keeps billing's count of assigned licenses in the same transaction that writes.
"""

from dataclasses import dataclass, field

from django.db import IntegrityError, connection, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from billing.models import Subscription
from billing.selectors import subscription_list
from billing.services import (
    subscription_require_free,
    subscription_usage_add,
    subscriptions_lock,
    subscriptions_lock_across,
    subscriptions_usage_add,
)
from licensing.models import DirectoryUser, LicenseAssignment, LicenseMoveBatch
from licensing.preview import DETAIL_MAX, licenses_preview, users_digest
from licensing.verbs import (
    LICENSES_ASSIGNED,
    LICENSES_MOVED,
    LICENSES_REMOVED,
    LICENSES_REPLACED,
    LICENSES_UNASSIGNED,
    USER_CREATED,
)
from portal import clock
from portal.errors import Conflict, DomainError, NotFound, short_list
from portal.inputs import is_plain_text, is_upn, parse_id
from portal.models import Tenant
from portal.services import event_build, event_record, events_record


def _lock(tenant: Tenant, ids, *, holder: str = "") -> dict[int, Subscription]:
    subs = subscriptions_lock(tenant=tenant, subscription_ids=ids)
    for sub in subs.values():
        subscription_require_free(sub, holder=holder)
    return subs


def _read(tenant: Tenant, subscription_id) -> Subscription:
    """One of the tenant's subscriptions, unlocked, for a preview (404 for missing and foreign alike)."""
    found = subscription_list(tenant=tenant).filter(pk=parse_id(subscription_id)).first()
    if found is None:
        raise NotFound(_("No such subscription."), code="subscription_not_found")
    return found


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


def require_active(sub: Subscription) -> None:
    """Licenses go onto (or come off) an Active subscription only (422 ``subscription_not_active``); the app's other
    writers (``licensing.moves``, ``licensing.user_licenses``) check with the same rule."""
    if sub.status != Subscription.Status.ACTIVE:
        raise DomainError(_("%(product)s isn't active.") % {"product": sub.product.name},
                          code="subscription_not_active")


def require_set_up(sub: Subscription) -> None:
    """The article's step 2: the subscription users get licenses of must be Active, and one still being set up
    isn't yet (422 ``subscription_not_provisioned``, saying when it is ready)."""
    if sub.provisioning == Subscription.Provisioning.PROVISIONED:
        return
    params = {"product": sub.product.name}
    if sub.provisioning_until is not None:
        message = _("%(product)s is still being set up: its licenses can be assigned once it is ready, by %(when)s "
                    "(simulation time). Nothing was changed.")
        params["when"] = sub.provisioning_until.strftime("%Y-%m-%d %H:%M UTC")
    else:
        message = _("%(product)s is still being set up: its licenses can be assigned once it is ready. Nothing was "
                    "changed.")
    raise DomainError(message % params, code="subscription_not_provisioned")


def require_available(sub: Subscription, needed: int) -> None:
    """``needed`` licenses are free on ``sub`` (422 ``not_enough_licenses``, saying how many to buy)."""
    available = max(sub.licenses - sub.assigned_licenses, 0)
    if needed > available:
        raise DomainError(
            ngettext("%(needed)d license is needed but only %(available)d are available on %(product)s: "
                     "buy %(missing)d more, or choose fewer users. Nothing was changed.",
                     "%(needed)d licenses are needed but only %(available)d are available on %(product)s: "
                     "buy %(missing)d more, or choose fewer users. Nothing was changed.", needed)
            % {"needed": needed, "available": available, "product": sub.product.name, "missing": needed - available},
            code="not_enough_licenses", needed=needed, available=available, missing=needed - available)


def _require_holding(sub: Subscription, users, holding: set[int]) -> None:
    without = sorted(u.upn for u in users if u.pk not in holding)
    if without:
        raise DomainError(_("These users don't have a license of %(product)s: %(users)s.")
                          % {"product": sub.product.name, "users": short_list(without)},
                          code="user_not_licensed", users=without)


def _holders(sub: Subscription, users) -> set[int]:
    return set(LicenseAssignment.objects.filter(subscription=sub, user__in=users).values_list("user_id", flat=True))


def _product_holders(sub: Subscription, users, *, besides: Subscription | None = None) -> set[int]:
    """The users who hold a license of the subscription's product, on it or on another subscription of the
    same product (``besides``: the one they are leaving aside): nobody gets a second license of one product
    (they keep the one they have)."""
    held = LicenseAssignment.objects.filter(subscription__tenant_id=sub.tenant_id,
                                            subscription__product_id=sub.product_id, user__in=users)
    if besides is not None:
        held = held.exclude(subscription=besides)
    return set(held.values_list("user_id", flat=True))


@transaction.atomic
def license_assign(*, tenant: Tenant, subscription_id: int, upns, actor: str) -> int:
    """Give each user a license of the subscription; refuse all if there aren't enough."""
    (sub,) = _lock(tenant, [subscription_id]).values()
    require_active(sub)
    require_set_up(sub)
    users = _users(tenant, upns)
    holding = _product_holders(sub, users)  # holders of the product keep their license, and get no second one
    new = [u for u in users if u.pk not in holding]
    require_available(sub, len(new))
    LicenseAssignment.objects.bulk_create(LicenseAssignment(user=u, subscription=sub) for u in new)
    subscription_usage_add(subscription=sub, delta=len(new))
    event_record(tenant=tenant, actor=actor, verb=LICENSES_ASSIGNED, obj=sub,
                 data={"users": [u.upn for u in new]})
    return len(new)


@transaction.atomic
def license_unassign(*, tenant: Tenant, subscription_id: int, upns, actor: str, reviewed: str = "") -> int:
    """Take the subscription's license from each user; refuse all if one doesn't hold it. ``reviewed``:
    the digest of the users the admin was shown (``license_unassign_preview``); others now, nothing
    happens (409 ``review_outdated``)."""
    (sub,) = _lock(tenant, [subscription_id]).values()
    users = _users(tenant, upns)
    _require_holding(sub, users, _holders(sub, users))
    if reviewed and reviewed != users_digest(sorted(u.upn for u in users)):
        raise Conflict(_("The users are no longer the ones you reviewed. Review the change again; nothing "
                         "was changed."), code="review_outdated")
    removed, _detail = LicenseAssignment.objects.filter(subscription=sub, user__in=users).delete()
    subscription_usage_add(subscription=sub, delta=-removed)
    event_record(tenant=tenant, actor=actor, verb=LICENSES_UNASSIGNED, obj=sub,
                 data={"users": sorted(u.upn for u in users)})
    return removed


@transaction.atomic
def license_replace(*, tenant: Tenant, from_subscription_id: int, to_subscription_id: int, upns,
                    actor: str, backup_confirmed: bool = False, reviewed: str = "") -> int:
    """Move users from one subscription to another in one transaction: nobody is
    unlicensed in between, and nothing moves unless everyone can. Where a user would lose the data
    of a data-related service, nothing moves until the admin confirms the data is backed up (422
    ``backup_required`` naming the services). The services a user had turned off are on again on
    the new license (the setting isn't kept): the audit event records them. ``reviewed``: the digest
    of the preview the admin saw; if anything differs now (users, their licenses), nothing moves (409
    ``review_outdated``), so the backup confirmation always covers what is lost."""
    subs = _lock(tenant, [from_subscription_id, to_subscription_id])
    if len(subs) != 2:
        raise DomainError(_("Choose two different subscriptions."), code="same_subscription")
    source, target = subs[int(from_subscription_id)], subs[int(to_subscription_id)]
    require_active(target)
    require_set_up(target)
    users = _users(tenant, upns)
    _require_holding(source, users, _holders(source, users))
    already = _product_holders(target, users, besides=source)  # they keep the license of the product they hold
    new = [u for u in users if u.pk not in already]
    require_available(target, len(new))
    preview = licenses_preview(source=source, target_product=target.product, target=target,
                               upns=[u.upn for u in users])
    if reviewed and reviewed != preview.digest:
        raise Conflict(_("What changes for these users is no longer what you reviewed: their licenses changed "
                         "since. Review the change again. Nothing was changed."), code="review_outdated")
    if preview.backup_required and not backup_confirmed:
        raise DomainError(
            _("Moving these users to %(product)s deletes their data of: %(services)s. Back up the data you want to "
              "keep, then confirm that you have. Nothing was changed.")
            % {"product": target.product.name, "services": ", ".join(preview.data_lost)},
            code="backup_required", field="backup_confirmed", services=list(preview.data_lost))
    LicenseAssignment.objects.bulk_create(LicenseAssignment(user=u, subscription=target) for u in new)
    removed, _detail = LicenseAssignment.objects.filter(subscription=source, user__in=users).delete()
    subscription_usage_add(subscription=target, delta=len(new))
    subscription_usage_add(subscription=source, delta=-removed)
    data = {"users": sorted(u.upn for u in users), "from": source.pk, "to": target.pk}
    if preview.reset:
        data["reset_disabled_plans"] = {upn: list(names) for upn, names in preview.reset.items()}
    if preview.data_lost:
        data["data_lost"] = list(preview.data_lost)
        data["backup_confirmed"] = True
    event_record(tenant=tenant, actor=actor, verb=LICENSES_REPLACED, obj=target, data=data)
    return len(users)


def license_replace_preview(*, tenant: Tenant, from_subscription_id: int, to_subscription_id: int, upns):
    """What Replace would change for each user, and whether it can: the users must hold the source's
    license, and ``missing`` says how many licenses the target lacks (0: enough). Reads only."""
    source, target = _read(tenant, from_subscription_id), _read(tenant, to_subscription_id)
    if source.pk == target.pk:
        raise DomainError(_("Choose two different subscriptions."), code="same_subscription")
    users = _users(tenant, upns)
    _require_holding(source, users, _holders(source, users))
    preview = licenses_preview(source=source, target_product=target.product, target=target,
                               upns=[u.upn for u in users])
    needed = len(users) - len(_product_holders(target, users, besides=source))
    preview.missing = max(needed - max(target.licenses - target.assigned_licenses, 0), 0)
    preview.source, preview.target = source, target
    return preview


@dataclass
class UnassignPreview:
    subscription: Subscription
    upns: list[str]  # the first DETAIL_MAX, by user name
    count: int
    digest: str
    users: list = field(default_factory=list)  # UserChange of the first DETAIL_MAX: lost, and kept elsewhere


def license_unassign_preview(*, tenant: Tenant, subscription_id: int, upns) -> UnassignPreview:
    """Who would lose the subscription's license (each must hold it), and each one's services lost and kept
    through another license. Reads only."""
    found = _read(tenant, subscription_id)
    users = _users(tenant, upns)
    _require_holding(found, users, _holders(found, users))
    ordered = sorted(u.upn for u in users)
    changes = licenses_preview(source=found, target_product=None, upns=ordered[:DETAIL_MAX]).users
    return UnassignPreview(subscription=found, upns=ordered[:DETAIL_MAX], count=len(ordered),
                           digest=users_digest(ordered), users=changes)


EVENT_USERS = 100  # users named on a bulk license event (licenses.moved, licenses.removed); all are counted


@dataclass
class MovedBatch:
    moved: int = 0  # users that now hold the target's license instead of the source's
    last_id: int = 0  # the last assignment moved: the next batch starts after it
    left: int = 0  # licenses still assigned on the source


def _move_window(source: Subscription, *, after: int, limit: int) -> tuple[int, int, int]:
    """The next ``limit`` assignments of the source after id ``after``: (first id, last id, how many);
    one row from the database, whatever the batch's size."""
    table = LicenseAssignment._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT min(id), max(id), count(*) FROM (SELECT id FROM {table} "  # noqa: S608 - names are ours
                       f"WHERE subscription_id = %s AND id > %s ORDER BY id LIMIT %s) w", [source.pk, after, limit])
        return cursor.fetchone()


def _licenses_copy(*, source: Subscription, target: Subscription, first: int, last: int) -> int:
    """INSERT … SELECT: each holder of the source's assignments ``first``..``last`` gets the target's
    license with every service plan on, unless they hold its product already (there, or on another subscription
    of it: they keep that one). Answers how many were made.
    Nobody holds a plan change's new subscription yet, so the plain insert is tried first; where the
    unique user × subscription refuses it, the insert skips the holders row by row."""
    table, subs = LicenseAssignment._meta.db_table, Subscription._meta.db_table
    sql = (f"INSERT INTO {table} (user_id, subscription_id, disabled_plans, assigned_at) "  # noqa: S608 - ours
           f"SELECT s.user_id, %s, '[]', %s FROM {table} s WHERE s.subscription_id = %s AND s.id >= %s AND s.id <= %s"
           # a holder of the target's product (on it, or on another of its subscriptions) keeps that license
           f" AND NOT EXISTS (SELECT 1 FROM {table} h JOIN {subs} hs ON hs.id = h.subscription_id"
           f" WHERE h.user_id = s.user_id AND hs.product_id = %s AND hs.tenant_id = %s AND h.subscription_id <> %s)")
    params = [target.pk, connection.ops.adapt_datetimefield_value(timezone.now()), source.pk, first, last,
              target.product_id, target.tenant_id, source.pk]
    with connection.cursor() as cursor:
        try:
            with transaction.atomic():
                cursor.execute(sql, params)
        except IntegrityError:
            cursor.execute(sql + " ON CONFLICT DO NOTHING", params)
        return cursor.rowcount


@transaction.atomic
def licenses_move_batch(*, tenant: Tenant, from_subscription_id: int, to_subscription_id: int, limit: int,
                        holder: str, actor: str, after: int = 0) -> MovedBatch:
    """Move the next ``limit`` users (by assignment id, after ``after``) from one subscription to
    another for the change ``holder`` (both subscriptions may be held by it, nobody else's edit gets
    in between). In this one transaction each user gets the target's license and loses the source's,
    so nobody is ever unlicensed; set-based: an INSERT … SELECT and a DELETE of the id range, no row
    per user read into Python. The target's licenses start with every service plan on; what each user
    had turned off is kept on the batch's row (``LicenseMoveBatch``: ``licenses_moved_reset`` reads it
    back) and its audit event, with the number of users moved (and, on the event, the first
    ``EVENT_USERS`` of them by name). Users who already hold
    the target keep it. Never assigns beyond the target's licenses."""
    subs = _lock(tenant, [from_subscription_id, to_subscription_id], holder=holder)
    source, target = subs[int(from_subscription_id)], subs[int(to_subscription_id)]
    require_active(target)
    first, last, count = _move_window(source, after=after, limit=limit)
    if not count and after:  # nothing after the cursor: look once from the start
        first, last, count = _move_window(source, after=0, limit=limit)
    if not count:
        return MovedBatch(left=0)
    made = _licenses_copy(source=source, target=target, first=first, last=last)
    require_available(target, made)  # checked before anything is counted: the batch rolls back
    window = LicenseAssignment.objects.filter(subscription=source, pk__gte=first, pk__lte=last)
    reset = {upn: sorted(plans) for upn, plans in window.exclude(disabled_plans=[]).values_list(
        "user__upn", "disabled_plans")}
    named = sorted(window.order_by("pk").values_list("user__upn", flat=True)[:EVENT_USERS])
    removed, _detail = window.delete()
    subscription_usage_add(subscription=target, delta=made)
    subscription_usage_add(subscription=source, delta=-removed)
    LicenseMoveBatch.objects.create(tenant=tenant, holder=holder, from_subscription=source, to_subscription=target,
                                    users=removed, reset_disabled_plans=reset, moved_at=clock.now())
    data = {"users": named, "count": removed, "from": source.pk, "to": target.pk, "by": holder}
    if reset:
        data["reset_disabled_plans"] = reset
    event_record(tenant=tenant, actor=actor, verb=LICENSES_MOVED, obj=target, data=data)
    return MovedBatch(moved=removed, last_id=last, left=source.assigned_licenses)


@transaction.atomic
def licenses_remove_all_of(*, subscription_ids, actor: str, reason: str) -> dict[int, int]:
    """Remove every license of subscriptions being deleted (the last stage of their lifecycle, many
    tenants' at once): read, deleted, counted and audited with the users who lost them in one statement
    each, however many. Answers how many each lost."""
    subs = subscriptions_lock_across(subscription_ids=subscription_ids)
    held = LicenseAssignment.objects.filter(subscription__in=subs)
    upns: dict[int, list[str]] = {}
    for sub_id, upn in held.values_list("subscription_id", "user__upn"):
        upns.setdefault(sub_id, []).append(upn)
    if not upns:
        return {}
    held.delete()
    removed = {sub_id: len(names) for sub_id, names in upns.items()}
    subscriptions_usage_add(subscriptions=subs, deltas={sub_id: -n for sub_id, n in removed.items()})
    events_record(events=[event_build(tenant=sub.tenant, actor=actor, verb=LICENSES_REMOVED, obj=sub, data={
        "users": sorted(upns[sub.pk])[:EVENT_USERS], "count": removed[sub.pk], "reason": reason})
        for sub in subs if sub.pk in upns])
    return removed


def licenses_recount(*, tenant: Tenant) -> None:
    """Set billing's count of assigned licenses from the assignments themselves, for every
    subscription of the tenant (after a scenario loads users in bulk)."""
    counts = dict(LicenseAssignment.objects.filter(subscription__tenant=tenant).values("subscription")
                  .annotate(n=models.Count("pk")).values_list("subscription", "n"))
    for sub in subscriptions_lock(tenant=tenant, subscription_ids=list(
            Subscription.objects.filter(tenant=tenant).values_list("pk", flat=True))).values():
        subscription_usage_add(subscription=sub, delta=counts.get(sub.pk, 0) - sub.assigned_licenses)


@transaction.atomic
def user_create(*, tenant: Tenant, upn: str, display_name: str, actor: str) -> DirectoryUser:
    """Add a person to the tenant's directory (unlicensed; assign licenses after)."""
    upn = upn.strip().lower()
    if not is_upn(upn) or upn.split("@")[1] != tenant.domain:
        raise DomainError(_("The user name must end with @%(domain)s.") % {"domain": tenant.domain}, field="upn")
    if not is_plain_text(display_name):
        raise DomainError(_("The name can't contain control characters or text-direction overrides."),
                          field="display_name")
    exists = Conflict(_("A user %(upn)s already exists.") % {"upn": upn}, code="user_exists")
    if DirectoryUser.objects.filter(upn=upn).exists():
        raise exists
    try:
        with transaction.atomic():  # two requests for one UPN at once: the database decides
            user = DirectoryUser.objects.create(tenant=tenant, upn=upn,
                                                display_name=(display_name.strip() or upn.split("@")[0])[:200])
    except IntegrityError as exc:
        raise exists from exc
    event_record(tenant=tenant, actor=actor, verb=USER_CREATED, obj=user, data={"upn": upn})
    return user
