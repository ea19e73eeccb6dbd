"""Writes of billing. Every state change locks its rows and records an audit event."""

from django.db import transaction

from billing.models import CreditCheck
from portal import clock
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
