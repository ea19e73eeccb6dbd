"""The article's "Change plans manually" as a checklist for one pair of subscriptions: ``old``, the
one users move from, and ``new``, the one they move to (either may not be chosen yet). Each step is
done or still to do by the subscriptions' own counts (licenses bought, ``assigned_licenses``), so
the checklist costs no query, whatever the number of users.

1. Buy a new subscription: ``new`` is Active.
2. Check the new subscription and its licenses: both are Active (the old one only while users are
   still on it), the new one is set up, and it has an unassigned license for every user still on the
   old one.
3. Move users: nobody holds a license of the old subscription any more.
4. Cancel or remove licenses (optional): the old subscription is no longer Active (cancelled,
   expired, …), its recurring billing is off (it expires at the end of its term: an MCA subscription
   past its 7-day cancel window), or, when only some users moved (the new one has users), its
   licenses are down to those still assigned.
"""

from dataclasses import dataclass

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from billing.models import Subscription


@dataclass(frozen=True)
class Step:
    done: bool
    detail: str  # where the step stands, in the user's language: what is done, or what is left


def manual_path_steps(*, old: Subscription | None, new: Subscription | None,
                      moving: int | None = None) -> dict[str, Step]:
    """``moving``: how many users move (the article: "a license for each user you want to move"); by
    default everyone on the old subscription. The new subscription's users count as moved."""
    return {"buy": _buy(new), "check": _check(old, new, moving), "move": _move(old, new, moving),
            "cancel": _cancel(old, new)}


def _still_to_move(old, new, moving) -> int:
    if moving is None or new is None:
        return old.assigned_licenses
    return min(max(moving - new.assigned_licenses, 0), old.assigned_licenses)


def _active(sub: Subscription) -> bool:
    return sub.status == Subscription.Status.ACTIVE


def _not_active(sub: Subscription) -> str:
    return _("%(product)s isn't Active: its status is %(status)s.") % {
        "product": sub.product.name, "status": sub.get_status_display()}


def _buy(new):
    if new is None:
        return Step(False, _("Buy the subscription you want to move users to on Purchase services, with a license "
                             "for each user you move. Already have it? Choose it above."))
    if not _active(new):
        return Step(False, _not_active(new) + " " + _("Buy a new subscription, or reactivate this one on its page."))
    return Step(True, ngettext("%(product)s is bought: %(count)d license, since %(date)s.",
                               "%(product)s is bought: %(count)d licenses, since %(date)s.", new.licenses)
                % {"product": new.product.name, "count": new.licenses, "date": new.start_date.isoformat()})


def _check(old, new, moving):
    if old is None or new is None:
        return Step(False, _("Choose the subscription users move from and the one they move to above."))
    to_move, free = _still_to_move(old, new, moving), new.available_licenses
    short = max(to_move - free, 0)
    counts = (ngettext("%(count)d user to move", "%(count)d users to move", to_move) % {"count": to_move} + ", "
              + ngettext("%(count)d unassigned license", "%(count)d unassigned licenses", free) % {"count": free})
    counts += (": " + _("buy %(count)d more") % {"count": short}) if short else ""
    problems = []
    if not _active(new):
        problems.append(_not_active(new))
    elif new.provisioning != Subscription.Provisioning.PROVISIONED:
        problems.append(_("%(product)s is still being set up; check again in a few minutes.")
                        % {"product": new.product.name})
    if to_move and not _active(old):
        problems.append(_not_active(old))
    return Step(not problems and not short, " ".join([counts + ".", *problems]))


def _move(old, new, moving):
    if old is None:
        return Step(False, _("Choose the subscription users move from above."))
    if moving is not None and new is not None and old.assigned_licenses:
        left = _still_to_move(old, new, moving)
        return Step(not left, ngettext("%(moved)d of the %(count)d user who move has a license of %(product)s.",
                                       "%(moved)d of the %(count)d users who move have licenses of %(product)s.",
                                       moving) % {"moved": moving - left, "count": moving, "product": new.product.name})
    if not old.assigned_licenses:
        return Step(True, _("Nobody has a license of %(product)s any more.") % {"product": old.product.name})
    return Step(False, ngettext("%(count)d user still has a license of %(product)s.",
                                "%(count)d users still have licenses of %(product)s.", old.assigned_licenses)
                % {"count": old.assigned_licenses, "product": old.product.name})


def _cancel(old, new):
    if old is None:
        return Step(False, _("Choose the subscription users move from above."))
    product = old.product.name
    if old.cancelled_on is not None:
        return Step(True, _("%(product)s was cancelled on %(date)s.")
                    % {"product": product, "date": old.cancelled_on.isoformat()})
    if not _active(old):
        return Step(True, _("%(product)s is no longer billed: its status is %(status)s.")
                    % {"product": product, "status": old.get_status_display()})
    if not old.recurring_billing:
        return Step(True, _("Recurring billing of %(product)s is off: it expires at the end of its term.")
                    % {"product": product})
    assigned = old.assigned_licenses
    if not assigned:
        return Step(False, _("Nobody uses %(product)s any more: cancel it (or turn off its recurring billing) so you "
                             "pay only for the new licenses.") % {"product": product})
    if new is not None and new.assigned_licenses and old.licenses <= assigned:
        return Step(True, ngettext("%(product)s has only the %(count)d license still assigned.",
                                   "%(product)s has only the %(count)d licenses still assigned.", assigned)
                    % {"product": product, "count": assigned})
    return Step(False, ngettext(
        "%(product)s has %(licenses)d license, %(assigned)d of them assigned. When everyone has moved, cancel it; "
        "if only some users move, remove the licenses you no longer need.",
        "%(product)s has %(licenses)d licenses, %(assigned)d of them assigned. When everyone has moved, cancel it; "
        "if only some users move, remove the licenses you no longer need.", old.licenses)
                % {"product": product, "licenses": old.licenses, "assigned": assigned})
