"""Licensing's rows as a scenario file states them (more users than licenses included):
the simulation's loader validates the file and calls this (DESIGN.md: owners write their own
tables). Billing's count of assigned licenses is set from what was loaded."""

from uuid import UUID

from billing.models import Subscription
from licensing.models import DirectoryUser, LicenseAssignment, LicenseMoveBatch, OtherServicePlan
from licensing.plans import other_plans_save
from licensing.services import licenses_recount
from portal.models import Tenant

BATCH = 2000


def _bulk_users(users: list[DirectoryUser]) -> None:
    """Insert users in batches, making sure each object has its primary key after."""
    DirectoryUser.objects.bulk_create(users, batch_size=BATCH)
    missing = [u for u in users if u.pk is None]
    if missing:  # a backend that cannot return ids from a bulk insert
        ids = dict(DirectoryUser.objects.filter(upn__in=[u.upn for u in missing]).values_list("upn", "pk"))
        for u in missing:
            u.pk = ids[u.upn]


def _generate(tenant: Tenant, subscription: Subscription, count: int, prefix: str, usage_location: str) -> None:
    label = prefix[:1].upper() + prefix[1:]
    for begin in range(1, count + 1, BATCH):
        chunk = [DirectoryUser(tenant=tenant, upn=f"{prefix}{n}@{tenant.domain}", display_name=f"{label} {n}",
                               usage_location=usage_location)
                 for n in range(begin, min(begin + BATCH, count + 1))]
        _bulk_users(chunk)
        LicenseAssignment.objects.bulk_create(
            [LicenseAssignment(user=u, subscription=subscription, disabled_plans=[]) for u in chunk])


def directory_load(tenant: Tenant, t: dict, *, subscriptions: dict[str, Subscription], progress=None) -> int:
    """The file's users with their licenses, then the generated ones; returns how many users. ``progress``,
    when given, is told how many of the file's users are in after each batch."""
    for s in t.get("subscriptions", []):
        if s.get("other_plans"):  # each a name, or {name, id} (an import's, with the export's servicePlanId)
            other_plans_save(tenant=tenant, product=subscriptions[s["key"]].product, plans=[
                (p, None) if isinstance(p, str) else (p["name"], UUID(p["id"])) for p in s["other_plans"]])
    users = t.get("users", [])
    for begin in range(0, len(users), BATCH):
        chunk = users[begin:begin + BATCH]
        listed = [DirectoryUser(tenant=tenant, upn=u["upn"],
                                display_name=u.get("display_name") or u["upn"].split("@")[0],
                                usage_location=u.get("usage_location", "")) for u in chunk]
        _bulk_users(listed)
        LicenseAssignment.objects.bulk_create(
            (LicenseAssignment(user=user, subscription=subscriptions[lic["subscription"]],
                               disabled_plans=sorted(lic.get("disabled_plans", [])))
             for user, u in zip(listed, chunk, strict=True) for lic in u.get("licenses", [])),
            batch_size=BATCH)
        if progress is not None:
            progress(begin + len(chunk))
    generated = 0
    for g in t.get("generate_users", []):
        _generate(tenant, subscriptions[g["subscription"]], g["count"], g.get("prefix", "user"),
                  g.get("usage_location", ""))
        generated += g["count"]
    licenses_recount(tenant=tenant)
    return len(users) + generated


def directory_unload(tenant: Tenant) -> None:
    """Forget the tenant's users, their licenses, license moves and other plans (an import's ``--replace``)."""
    LicenseMoveBatch.objects.filter(tenant=tenant).delete()
    LicenseAssignment.objects.filter(user__tenant=tenant).delete()
    DirectoryUser.objects.filter(tenant=tenant).delete()
    OtherServicePlan.objects.filter(tenant=tenant).delete()
