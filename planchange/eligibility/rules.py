"""One rule per row of the article's "Why can't I change plans?", each a small function of the context
answering its blocker (with what fixes it) or None."""


from django.urls import reverse
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from billing.models import (
    Subscription,
)
from billing.money import money_text
from planchange.blockers import Action, Blocker, Code
from planchange.eligibility.context import EligibilityContext
from planchange.models import PlanChange
from portal.models import Service, Tenant

NOT_ELIGIBLE_SOURCES = {
    Subscription.Source.TRIAL: gettext_lazy("This is a trial subscription."),
    Subscription.Source.PRODUCT_KEY: gettext_lazy("This subscription is prepaid with a product key."),
    Subscription.Source.RESELLER: gettext_lazy("This subscription was bought through a reseller."),
}


# The subscription's status in a sentence of its own: a status label isn't a word to put in a sentence.
NOT_ACTIVE = {
    Subscription.Status.EXPIRED: gettext_lazy("The subscription has expired."),
    Subscription.Status.DISABLED: gettext_lazy("The subscription is disabled."),
    Subscription.Status.DELETED: gettext_lazy("The subscription is deleted."),
    Subscription.Status.CANCELLED: gettext_lazy("The subscription is cancelled."),
}


# --- Actions: where the fix is -----------------------------------------------------


def manual_change_action(sub_id: int) -> Action:
    """The manual path's checklist, for the subscription users would move away from."""
    return Action(_("Change plans manually"), reverse("billing:change-manually") + f"?from={sub_id}")


def subscription_page_action(sub_id: int) -> Action:
    return Action(_("Go to the subscription"), _subscription_page(sub_id))


def _service_health() -> Action:
    return Action(_("Go to Health > Service health"), reverse("health:service-health"))


def _subscription_page(sub_id: int, anchor: str = "") -> str:
    return reverse("planchange:subscription", args=[sub_id]) + (f"#{anchor}" if anchor else "")


# --- One rule per row of the article ----------------------------------------------


def rule_users_exceed_licenses(ctx: EligibilityContext) -> Blocker | None:
    sub = ctx.subscription
    if sub.assigned_licenses <= sub.licenses:
        return None
    return Blocker(
        Code.USERS_EXCEED_LICENSES,
        ngettext("%(assigned)d user has a license, but the subscription has %(licenses)d.",
                 "%(assigned)d users have licenses, but the subscription has %(licenses)d.", sub.assigned_licenses)
        % {"assigned": sub.assigned_licenses, "licenses": sub.licenses},
        Action(_("Unassign licenses"), reverse("users:active") + f"?subscription={sub.pk}"),
    )


def rule_subscription_not_provisioned(ctx: EligibilityContext) -> Blocker | None:
    if ctx.subscription.provisioning == Subscription.Provisioning.PROVISIONED:
        return None
    until = ctx.subscription.provisioning_until
    detail = (_("%(product)s is still being set up; it is expected to be ready by %(when)s (simulation time), "
                "or when support finishes it.") % {"product": ctx.product.name,
                                                    "when": until.strftime("%Y-%m-%d %H:%M UTC")}
              if until else _("%(product)s is still being set up; support can finish it.")
              % {"product": ctx.product.name})
    return Blocker(Code.SUBSCRIPTION_NOT_PROVISIONED, detail,
                   Action(_("See the set-up"), reverse("billing:setup", args=[ctx.subscription.pk])))


def rule_service_incident(ctx: EligibilityContext) -> Blocker | None:
    services = {service for plan in ctx.product.service_plans.all() for service, _level in plan.provides()}
    hits = [i for i in ctx.open_incidents if i.service in services]
    if not hits:
        return None
    return Blocker(
        Code.SERVICE_INCIDENT,
        "; ".join(f"{Service(i.service).label}: {i.title} ({i.get_status_display()})" for i in hits)
        + " " + _("This clears as soon as the service is restored or the incident resolved; the Service health "
                  "page shows its progress."),
        _service_health(),
        services=tuple(sorted({i.service for i in hits})),
    )


def rule_change_in_progress(ctx: EligibilityContext) -> Blocker | None:
    sub = ctx.subscription
    running = [c for c in ctx.live_changes if c.status != PlanChange.Status.SCHEDULED]
    scheduled = [c for c in ctx.live_changes if c.status == PlanChange.Status.SCHEDULED and c.subscription_id == sub.pk]
    if running:
        change = running[0]
        return Blocker(
            Code.CHANGE_IN_PROGRESS,
            _("%(product)s is being changed to %(target)s (%(status)s).") % {
                "product": change.subscription.product.name, "target": change.target_product.name,
                "status": change.get_status_display()},
            Action(_("View the change in progress"), _subscription_page(change.subscription_id)),
        )
    if scheduled:
        change = scheduled[0]
        return Blocker(
            Code.CHANGE_IN_PROGRESS,
            _("A change to %(target)s is scheduled for %(date)s.") % {
                "target": change.target_product.name, "date": date_format(change.scheduled_for, "Y-m-d")},
            Action(_("View the scheduled change"), _subscription_page(sub.pk, "scheduled-change")),
        )
    return _rule_change_coming_in(ctx)


def _rule_change_coming_in(ctx: EligibilityContext) -> Blocker | None:
    """A change scheduled elsewhere moves its users into this subscription: it can't change before that."""
    sub = ctx.subscription
    coming = [c for c in ctx.live_changes if c.into_existing and c.new_subscription_id == sub.pk]
    if not coming:
        return None
    change = coming[0]
    return Blocker(
        Code.CHANGE_IN_PROGRESS,
        _("A change of %(product)s scheduled for %(date)s moves its users into this subscription.") % {
            "product": change.subscription.product.name, "date": date_format(change.scheduled_for, "Y-m-d")},
        Action(_("View the scheduled change"), _subscription_page(change.subscription_id, "scheduled-change")),
    )


def rule_credit_check_pending(ctx: EligibilityContext) -> Blocker | None:
    if not ctx.pending_credit_checks:
        return None
    check = ctx.pending_credit_checks[0]
    return Blocker(
        Code.CREDIT_CHECK_PENDING,
        _("A credit check requested on %(date)s is pending.") % {"date": date_format(check.requested, "Y-m-d")},
        None,  # nothing to do but wait (support staff can decide it sooner)
    )


def rule_subscription_not_eligible(ctx: EligibilityContext) -> Blocker | None:
    reason = NOT_ELIGIBLE_SOURCES.get(ctx.subscription.source)
    if reason is None:
        return None
    return Blocker(Code.SUBSCRIPTION_NOT_ELIGIBLE, str(reason), manual_change_action(ctx.subscription.pk))


def rule_duplicate_product(ctx: EligibilityContext) -> Blocker | None:
    if len(ctx.same_product_active) < 2:
        return None
    others = [s for s in ctx.same_product_active if s.pk != ctx.subscription.pk]
    return Blocker(
        Code.DUPLICATE_PRODUCT,
        _("Your organization has %(count)d active %(product)s subscriptions.")
        % {"count": len(ctx.same_product_active), "product": ctx.product.name},
        Action(_("Move users to a single plan"), reverse("users:active") + f"?subscription={others[0].pk}"),
    )


def rule_government_or_nonprofit(ctx: EligibilityContext) -> Blocker | None:
    if ctx.tenant.kind == Tenant.Kind.COMMERCIAL:
        return None
    detail = (_("Your organization is a government organization.") if ctx.tenant.kind == Tenant.Kind.GOVERNMENT
              else _("Your organization is a nonprofit organization."))
    return Blocker(Code.GOVERNMENT_OR_NONPROFIT, detail, manual_change_action(ctx.subscription.pk))


def rule_addon_present(ctx: EligibilityContext) -> Blocker | None:
    blocking = [a for a in ctx.addons if a.blocks_plan_change]
    if not blocking:
        return None
    return Blocker(
        Code.ADDON_PRESENT,
        _("Add-ons that prevent the change: %(addons)s.") % {"addons": ", ".join(a.name for a in blocking)},
        Action(_("Remove the add-on"), _subscription_page(ctx.subscription.pk, "addons")),
    )


UNPAID_NAMED = 3  # past-due invoices a blocker names (the oldest); the rest are counted


def rule_unpaid_balance(ctx: EligibilityContext) -> Blocker | None:
    """Every past-due invoice and their total: one is paid with Pay now, several at once with Settle balance."""
    overdue = ctx.overdue_invoices
    if not overdue:
        return None
    if len(overdue) == 1:
        (invoice,) = overdue
        return Blocker(
            Code.UNPAID_BALANCE,
            _("Invoice %(number)s has %(balance)s unpaid, due %(due)s.") % {
                "number": invoice.number, "balance": money_text(invoice.balance),
                "due": date_format(invoice.due_date, "Y-m-d")},
            Action(_("Pay now"), reverse("billing:invoice", args=[invoice.pk])),
        )
    each = [_("%(number)s (%(balance)s, due %(due)s)") % {
        "number": i.number, "balance": money_text(i.balance), "due": date_format(i.due_date, "Y-m-d")}
        for i in overdue[:UNPAID_NAMED]]
    said = {"total": money_text(sum(i.balance for i in overdue)), "count": len(overdue), "invoices": ", ".join(each),
            "more": len(overdue) - len(each)}
    if said["more"]:  # a payer who never pays, two years on: the oldest few and how many more, not a wall of them
        detail = ngettext("%(total)s is unpaid on %(count)d past-due invoices: %(invoices)s and %(more)d more.",
                          "%(total)s is unpaid on %(count)d past-due invoices: %(invoices)s and %(more)d more.",
                          said["more"]) % said
    else:
        detail = ngettext("%(total)s is unpaid on %(count)d past-due invoice: %(invoices)s.",
                          "%(total)s is unpaid on %(count)d past-due invoices: %(invoices)s.", len(overdue)) % said
    return Blocker(Code.UNPAID_BALANCE, detail, Action(_("Settle balance"), reverse("billing:bills")))


def rule_subscription_not_active(ctx: EligibilityContext) -> Blocker | None:
    sub = ctx.subscription
    if sub.status == Subscription.Status.ACTIVE:
        return None
    return Blocker(Code.SUBSCRIPTION_NOT_ACTIVE, str(NOT_ACTIVE.get(sub.status, sub.status)),
                   manual_change_action(sub.pk))


RULES = (
    rule_users_exceed_licenses,
    rule_subscription_not_provisioned,
    rule_service_incident,
    rule_change_in_progress,
    rule_credit_check_pending,
    rule_subscription_not_eligible,
    rule_duplicate_product,
    rule_government_or_nonprofit,
    rule_addon_present,
    rule_unpaid_balance,
    rule_subscription_not_active,
)


def subscription_blockers(ctx: EligibilityContext) -> list[Blocker]:
    """Every blocker of the subscription, in the article's order (not just the first)."""
    return [blocker for rule in RULES if (blocker := rule(ctx)) is not None]
