"""Writes of billing. Every state change locks its rows and records an audit event."""

from django.db import transaction
from django.utils.translation import gettext as _

from billing.models import CreditCheck, Invoice, Subscription, SubscriptionAddOn
from portal import clock
from portal.errors import Conflict, DomainError, NotFound
from portal.services import event_record

CREDIT_CHECK_BUSINESS_DAYS = 2


def credit_checks_complete_due() -> int:
    """Approve pending credit checks requested two business days ago or more.

    The article: "Kreditkontroller kan ta upp till två arbetsdagar." Support staff can
    decide earlier; this is what happens when nobody does.
    """
    today = clock.today()
    done = 0
    pending_ids = list(
        CreditCheck.objects.filter(status=CreditCheck.Status.PENDING).values_list("pk", flat=True)
    )
    for check_id in pending_ids:
        with transaction.atomic():
            check = CreditCheck.objects.select_for_update().get(pk=check_id)
            if check.status != CreditCheck.Status.PENDING:
                continue
            if clock.add_business_days(check.requested, CREDIT_CHECK_BUSINESS_DAYS) > today:
                continue
            check.status = CreditCheck.Status.APPROVED
            check.decided_on = today
            check.save(update_fields=["status", "decided_on"])
            event_record(tenant=check.tenant, actor="system", verb="credit_check.approved", obj=check,
                         data={"requested": check.requested.isoformat(), "reason": "two business days passed"})
            done += 1
    return done


def _locked_subscription(tenant, subscription_id) -> Subscription:
    try:
        return Subscription.objects.select_for_update().select_related("product").get(
            tenant=tenant, pk=subscription_id)
    except (Subscription.DoesNotExist, ValueError, TypeError) as exc:
        raise NotFound(_("No such subscription."), code="subscription_not_found") from exc


def _require_no_change_under_way(sub: Subscription) -> None:
    from django.apps import apps

    plan_change = apps.get_model("planchange", "PlanChange")
    if plan_change.objects.filter(subscription=sub, status__in=("queued", "running")).exists():
        raise Conflict(_("A plan change of this subscription is in progress."), code="change_in_progress")


@transaction.atomic
def subscription_addon_remove(*, tenant, subscription_id, code: str, actor: str) -> None:
    """Remove an add-on ("you can add it back later if you still need it")."""
    sub = _locked_subscription(tenant, subscription_id)
    _require_no_change_under_way(sub)
    deleted, _detail = SubscriptionAddOn.objects.filter(subscription=sub, addon__code=code).delete()
    if not deleted:
        raise NotFound(_("The subscription has no add-on %(code)s.") % {"code": code}, code="addon_not_found")
    event_record(tenant=tenant, actor=actor, verb="subscription.addon_removed", obj=sub, data={"addon": code})


@transaction.atomic
def subscription_cancel(*, tenant, subscription_id, actor: str) -> Subscription:
    """Cancel a subscription nobody uses any more. Licenses still assigned must be moved or
    unassigned first, so no user loses service by surprise."""
    sub = _locked_subscription(tenant, subscription_id)
    if sub.status != Subscription.Status.ACTIVE:
        raise Conflict(_("Only an active subscription can be cancelled."), code="subscription_not_active")
    _require_no_change_under_way(sub)
    from django.apps import apps

    assigned = apps.get_model("licensing", "LicenseAssignment").objects.filter(subscription=sub).count()
    if assigned:
        raise DomainError(
            _("%(count)d users still have licenses of %(product)s. Move them to another subscription or "
              "unassign their licenses first.") % {"count": assigned, "product": sub.product.name},
            code="licenses_assigned")
    sub.status = Subscription.Status.CANCELLED
    sub.cancelled_on = clock.today()
    sub.recurring_billing = False
    sub.save(update_fields=["status", "cancelled_on", "recurring_billing"])
    event_record(tenant=tenant, actor=actor, verb="subscription.cancelled", obj=sub)
    return sub


@transaction.atomic
def invoice_pay(*, tenant, invoice_id, actor: str) -> Invoice:
    """Pay an invoice's whole balance (Pay now / Settle balance)."""
    try:
        invoice = Invoice.objects.select_for_update().get(tenant=tenant, pk=invoice_id)
    except (Invoice.DoesNotExist, ValueError, TypeError) as exc:
        raise NotFound(_("No such invoice."), code="invoice_not_found") from exc
    if invoice.balance <= 0:
        raise Conflict(_("Invoice %(number)s has nothing left to pay.") % {"number": invoice.number},
                       code="nothing_to_pay")
    amount = invoice.balance
    invoice.paid = invoice.total
    invoice.save(update_fields=["paid"])
    event_record(tenant=tenant, actor=actor, verb="invoice.paid", obj=invoice,
                 data={"number": invoice.number, "amount": str(amount)})
    return invoice
