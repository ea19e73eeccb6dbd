"""Reads of the tenant's directory users and their licenses."""

from django.db.models import Prefetch, Q, Sum
from django.utils.translation import gettext_lazy

from licensing.models import DirectoryUser, LicenseAssignment, LicenseMoveBatch
from portal.errors import Missing
from portal.models import Tenant

USER_MISSING = Missing("user_not_found", gettext_lazy("No such user."))


def user_list(*, tenant: Tenant, search: str = "", subscription_id: int | None = None):
    """The tenant's users with their licenses; ``search`` matches name or UPN, and
    ``subscription_id`` keeps the holders of that subscription's license."""
    users = DirectoryUser.objects.filter(tenant=tenant)
    if search:
        users = users.filter(Q(display_name__icontains=search) | Q(upn__icontains=search))
    if subscription_id is not None:
        users = users.filter(licenses__subscription_id=subscription_id)
    return users.order_by("display_name", "upn").prefetch_related(
        Prefetch("licenses", queryset=LicenseAssignment.objects.select_related("subscription__product"))
    )


def licenses_moved_reset(*, tenant: Tenant, holder: str) -> dict[str, list[str]]:
    """UPN → the service plans each user had turned off before ``holder`` (a plan change) moved
    them, from its batches (``licenses_move_batch``): one query, whatever the number of batches."""
    reset: dict[str, list[str]] = {}
    for part in (LicenseMoveBatch.objects.filter(tenant=tenant, holder=holder).exclude(reset_disabled_plans={})
                 .order_by("pk").values_list("reset_disabled_plans", flat=True)):
        reset.update(part or {})
    return reset


def licenses_moved_count(*, tenant: Tenant, holder: str) -> int:
    """How many users ``holder`` (a plan change) has moved so far, by its batches (not the new
    subscription's count, which licenses assigned since would change)."""
    return LicenseMoveBatch.objects.filter(tenant=tenant, holder=holder).aggregate(n=Sum("users"))["n"] or 0


UPNS_PER_QUERY = 900  # under SQLite's oldest limit of parameters a statement, whatever a file holds


def upns_taken(upns: list[str]) -> set[str]:
    """Which of these user principal names a user of the portal has already (any tenant's): one query a
    ``UPNS_PER_QUERY`` names, for a file of any size."""
    taken: set[str] = set()
    for begin in range(0, len(upns), UPNS_PER_QUERY):
        taken.update(DirectoryUser.objects.filter(upn__in=upns[begin:begin + UPNS_PER_QUERY])
                     .values_list("upn", flat=True))
    return taken
