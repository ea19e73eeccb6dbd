"""The rows of "Why can't I change plans?" ("Varför kan jag inte ändra planer?").

Titles and resolutions are the article's own words (the Swedish catalog holds the
Swedish article's sentences). Where the article joins two causes in one row, each code
takes its half of the issue text and the whole resolution.
"""

from dataclasses import dataclass, field

from django.utils.translation import gettext_lazy as _


class Code:
    USERS_EXCEED_LICENSES = "users_exceed_licenses"
    SUBSCRIPTION_NOT_PROVISIONED = "subscription_not_provisioned"
    SERVICE_INCIDENT = "service_incident"
    CHANGE_IN_PROGRESS = "change_in_progress"
    CREDIT_CHECK_PENDING = "credit_check_pending"
    SUBSCRIPTION_NOT_ELIGIBLE = "subscription_not_eligible"
    DUPLICATE_PRODUCT = "duplicate_product"
    GOVERNMENT_OR_NONPROFIT = "government_or_nonprofit"
    TARGET_NOT_SUPPORTED = "target_not_supported"
    TARGET_NOT_UPGRADE = "target_not_upgrade"
    TARGET_ALREADY_OWNED = "target_already_owned"
    ADDON_PRESENT = "addon_present"
    UNPAID_BALANCE = "unpaid_balance"
    SUBSCRIPTION_NOT_ACTIVE = "subscription_not_active"


_NOT_AVAILABLE = _(
    "For example, if a service in your existing plan has an incident, you can't change plans "
    "until all services are healthy. To see if there are provisioning or service health issues, "
    "in the admin center, go to the Health > Service health page. If you discover that a service "
    "isn't fully provisioned, or there's a problem with the service health, wait a few hours for "
    "the service to become available, then try again. If you still have issues, contact support."
)

TEXTS = {
    Code.USERS_EXCEED_LICENSES: (
        _("You have more users than licenses."),
        _("To change plans automatically, all users must have valid licenses. Unassign licenses "
          "from users until you have the same or fewer users than the number of licenses."),
    ),
    Code.SUBSCRIPTION_NOT_PROVISIONED: (_("The current subscription isn't fully set up."), _NOT_AVAILABLE),
    Code.SERVICE_INCIDENT: (_("The service isn't available."), _NOT_AVAILABLE),
    Code.CHANGE_IN_PROGRESS: (
        _("Another plan is in the process of being changed."),
        _("Wait for the change in progress to finish, or cancel the scheduled change, then try again."),
    ),
    Code.CREDIT_CHECK_PENDING: (
        _("A credit check is pending."),
        _("Wait for the credit check to finish before you change plans. Credit checks can take up "
          "to two business days."),
    ),
    Code.SUBSCRIPTION_NOT_ELIGIBLE: (
        _("The subscription isn't currently eligible to change plans."),
        _("You can change plans manually."),
    ),
    Code.DUPLICATE_PRODUCT: (
        _("You have two or more plans for the same product."),
        _("You can only change plans automatically if all users are licensed for the same plan. For "
          "example, if you have two Microsoft 365 Business Standard plans, you can't automatically "
          "change one of them to a different plan. In this case, move all users to a single plan, "
          "cancel the unused plan, and then try to change plans again."),
    ),
    Code.GOVERNMENT_OR_NONPROFIT: (
        _("You have a government or nonprofit plan."),
        _("If you have a government or nonprofit plan, you can change plans manually."),
    ),
    Code.TARGET_NOT_SUPPORTED: (
        _("The plan that you want to change to isn't supported."),
        _("The plans available to change to are shown based on the services in your current plan. "
          "You can only automatically change to a plan that has the same data-related services or to "
          "a higher version. This ensures that users don't lose data related to those services during "
          "the change. If you want to change to a plan with fewer services, you can change plans "
          "manually."),
    ),
    Code.TARGET_NOT_UPGRADE: (
        _("The plan that you want to change to isn't an upgrade."),
        _("An automatic change goes up: to a plan with a higher price per license that keeps all your "
          "data-related services. To change to a plan that costs less, change plans manually; if you pay "
          "through a billing account, you can also choose it for your renewal."),
    ),
    Code.TARGET_ALREADY_OWNED: (
        _("You already have the plan that you want to change to."),
        _("When you already have a subscription of the plan you want, the change moves your users into it: its "
          "licenses grow by the users who move. It can only do so while that subscription is active, has the "
          "same subscription length and billing frequency, and its term ends on or after this subscription's. "
          "Otherwise, move users to it manually."),
    ),
    Code.ADDON_PRESENT: (
        _("Your subscription has an add-on."),
        _("If you start to change plans and your subscription has an add-on that prevents you from "
          "continuing, remove the add-on. You can add it back later if you still need it. Or, you can "
          "change plans manually."),
    ),
    Code.UNPAID_BALANCE: (
        _("Your invoice has an unpaid balance."),
        _("This only applies if you pay for your subscription by invoice. To fix the issue, find the "
          "subscription on the Your products page, and in the Billing section, select the Pay now or "
          "Settle balance link. After payment is made, you can try to change plans again."),
    ),
    Code.SUBSCRIPTION_NOT_ACTIVE: (
        _("I have a different problem than those listed here."),
        _("You can change plans manually, or contact support."),
    ),
}


def titles(codes) -> list[str]:
    """The article's titles of these blocker codes, in the reader's language (unknown codes left out)."""
    return [str(TEXTS[code][0]) for code in codes if code in TEXTS]


@dataclass(frozen=True)
class Action:
    label: str
    url: str


@dataclass(frozen=True)
class Blocker:
    """Why a plan can't change automatically, what fixes it and where."""

    code: str
    detail: str
    action: Action | None
    services: tuple[str, ...] = field(default=())

    @property
    def title(self) -> str:
        return str(TEXTS[self.code][0])

    @property
    def resolution(self) -> str:
        return str(TEXTS[self.code][1])

    def as_dict(self) -> dict:
        data = {
            "code": self.code,
            "title": self.title,
            "resolution": self.resolution,
            "detail": self.detail,
            "action": {"label": str(self.action.label), "url": self.action.url} if self.action else None,
        }
        if self.services:
            data["services"] = list(self.services)
        return data
