"""What changes for each user before anything moves (Replace by hand, or an automatic change).

Microsoft's article warns that per-user settings don't survive a plan change and that a plan with
fewer data-related services loses their data; the admin center shows neither per user. This does:
for each user, the services gained and lost (by their catalog names, counting every other license
the user keeps), the services the user had turned off that will be on again (the setting is not
kept), and the data-related services whose data would be lost. It reads; it writes nothing.

Cost: two queries for the users' licenses however many users move (tuples, not model objects),
plus the catalog's service plans.
"""

import hashlib
import json
from collections import Counter
from dataclasses import dataclass, field

from billing.models import Product, Subscription
from licensing.models import LicenseAssignment

DETAIL_MAX = 200  # users listed one by one; the rest are counted in the groups


@dataclass(frozen=True)
class UserChange:
    """One user's change, every list in the catalog's order (service, then level)."""

    upn: str
    gained: tuple[str, ...]
    lost: tuple[str, ...]
    reset_disabled_plans: tuple[str, ...]
    data_lost: tuple[str, ...]
    kept: tuple[str, ...] = ()  # the source's services the user still has after, through another license

    def as_dict(self) -> dict:
        return {"upn": self.upn, "gained": list(self.gained), "lost": list(self.lost),
                "reset_disabled_plans": list(self.reset_disabled_plans), "data_lost": list(self.data_lost)}


@dataclass
class LicensePreview:
    count: int = 0
    users: list[UserChange] = field(default_factory=list)  # the first DETAIL_MAX, by user name
    every: list[UserChange] = field(default_factory=list)  # every user, by user name (the CSV's rows)
    groups: list[tuple[UserChange, int]] = field(default_factory=list)  # same change → how many users (upn "")
    data_lost: tuple[str, ...] = ()  # every data-related service some user would lose the data of
    reset: dict[str, tuple[str, ...]] = field(default_factory=dict)  # every user whose turned-off services go on
    digest: str = ""  # of every user's change: what the admin reviewed (a confirmation sends it back)
    missing: int = 0  # licenses the target lacks for these users (Replace)
    source: Subscription | None = None
    target: Subscription | None = None

    @property
    def backup_required(self) -> bool:
        return bool(self.data_lost)

    @property
    def more(self) -> int:
        return self.count - len(self.users)


class _Catalog:
    """Each product's service plans as (code, name, service, level, data_related, provides), read once;
    ``provides``: the (service, level) pairs a user with the plan has (``ServicePlan.provides``)."""

    def __init__(self):
        self.plans: dict[int, list[tuple]] = {}
        self.order: dict[str, tuple] = {}
        for product in Product.objects.prefetch_related("service_plans"):
            rows = [(p.code, p.name, p.service, p.level, p.data_related, tuple(p.provides()))
                    for p in product.service_plans.all()]
            self.plans[product.pk] = rows
            for code, name, service, level, _data, _provides in rows:
                self.order[code] = (service, level, name)

    def enabled(self, product_id: int, disabled) -> dict[str, tuple]:
        off = set(disabled or ())
        return {row[0]: row for row in self.plans.get(product_id, ()) if row[0] not in off}

    def names(self, codes) -> tuple[str, ...]:
        return tuple(self.order[c][2] for c in sorted(codes, key=lambda c: self.order[c]))


def _user_change(catalog: "_Catalog", *, upn, disabled, kept, source, target_product, target_id,
                 source_rows) -> tuple[UserChange, list[str]]:
    """One user's change: services gained and lost (with the licenses they keep), the plans turned back
    on, the data-related services whose data would be lost (also answered as codes)."""
    before: dict[str, tuple] = dict(catalog.enabled(source.product_id, disabled))
    after: dict[str, tuple] = {}
    for _sub_id, product_id, off in kept:
        plans = catalog.enabled(product_id, off)
        before.update(plans)
        after.update(plans)
    if target_product is not None and not any(sub_id == target_id for sub_id, _p, _off in kept):
        after.update(catalog.enabled(target_product.pk, ()))
    levels: dict[str, int] = {}
    for row in after.values():
        for service, level in row[5]:
            levels[service] = max(level, levels.get(service, 0))
    # A plan replaced by a higher level of its service isn't lost (Exchange Plan 1 → Plan 2).
    lost = [c for c, row in before.items() if c not in after and levels.get(row[2], 0) < row[3]]
    data_lost = [c for c, row in source_rows.items() if row[4] and levels.get(row[2], 0) < row[3]]
    # Turned back on: off on the license that goes, on after the move, and not already on through a
    # license the user keeps.
    reset = [c for c in (disabled or ()) if c in after and c in source_rows and c not in before]
    still = [c for c in catalog.enabled(source.product_id, disabled) if c not in lost]
    return UserChange(upn=upn, gained=catalog.names(set(after) - set(before)), lost=catalog.names(lost),
                      reset_disabled_plans=catalog.names(reset), data_lost=catalog.names(data_lost),
                      kept=catalog.names(still) if kept else ()), data_lost


def licenses_preview(*, source: Subscription, target_product: Product | None, target: Subscription | None = None,
                     upns=None) -> LicensePreview:
    """What moving users from ``source`` to ``target_product`` changes for each of them: the users
    ``upns`` (Replace) or every holder of ``source`` (an automatic change); ``target_product`` None: what
    taking ``source``'s license away changes (unassign), counting the licenses they keep. ``target`` is the
    subscription they move to when it exists already: a user who holds it keeps that license and its
    settings; everyone else gets a new license with every service plan on."""
    catalog = _Catalog()
    held = LicenseAssignment.objects.filter(subscription=source)
    if upns is not None:
        held = held.filter(user__upn__in=list(upns))
    moving = {user_id: (upn, disabled) for user_id, upn, disabled in
              held.values_list("user_id", "user__upn", "disabled_plans")}
    others: dict[int, list[tuple[int, int, list]]] = {}
    rows = (LicenseAssignment.objects.filter(user_id__in=held.values("user_id")).exclude(subscription=source)
            .values_list("user_id", "subscription_id", "subscription__product_id", "disabled_plans"))
    for user_id, sub_id, product_id, disabled in rows:
        others.setdefault(user_id, []).append((sub_id, product_id, disabled))
    source_rows = {row[0]: row for row in catalog.plans.get(source.product_id, ())}
    changes, lost_data = [], set()
    for user_id, (upn, disabled) in moving.items():
        change, data_lost = _user_change(catalog, upn=upn, disabled=disabled, kept=others.get(user_id, []),
                                         source=source, target_product=target_product,
                                         target_id=target.pk if target is not None else None, source_rows=source_rows)
        changes.append(change)
        lost_data.update(data_lost)
    changes.sort(key=lambda c: c.upn)
    groups = Counter(UserChange("", c.gained, c.lost, c.reset_disabled_plans, c.data_lost) for c in changes)
    return LicensePreview(
        count=len(changes), users=changes[:DETAIL_MAX], every=changes,
        groups=sorted(groups.items(), key=lambda item: (-item[1], item[0].reset_disabled_plans)),
        data_lost=catalog.names(lost_data),
        reset={c.upn: c.reset_disabled_plans for c in changes if c.reset_disabled_plans},
        digest=users_digest([c.as_dict() for c in changes]),
    )


def users_digest(rows) -> str:
    """A short fingerprint of what was shown to the admin (users and their changes), so a confirmation
    can say "this is what I reviewed" and anything different since is refused."""
    return hashlib.sha256(json.dumps(rows, sort_keys=True).encode()).hexdigest()[:32]
