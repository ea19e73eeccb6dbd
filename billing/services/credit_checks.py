"""Credit checks: approved by themselves after two business days, or decided by support staff."""

from django.db import transaction
from django.utils.translation import gettext as _

from billing.models import CreditCheck
from billing.selectors import CREDIT_CHECK_BUSINESS_DAYS, credit_check_get
from billing.texts import CREDIT_CHECK, CREDIT_CHECK_PASSED
from billing.verbs import CREDIT_CHECK_APPROVED, CREDIT_CHECK_DECIDED
from portal import clock
from portal.errors import Conflict
from portal.happenings import Happening, Kind
from portal.services import event_record, support_reason_clean
from portal.texts import Text


@transaction.atomic
def credit_checks_complete_due(*, day=None) -> list[Happening]:
    """Approve pending credit checks requested two business days before ``day`` or earlier.

    The article: "Kreditkontroller kan ta upp till två arbetsdagar." Support staff can
    decide earlier; this is what happens when nobody does. Only the due checks are read.
    """
    day = day or clock.today()
    cutoff = clock.latest_start_due(day, CREDIT_CHECK_BUSINESS_DAYS)
    due = (CreditCheck.objects.select_for_update(of=("self",)).select_related("tenant")
           .filter(status=CreditCheck.Status.PENDING, requested__lte=cutoff).order_by("requested", "pk"))
    happened = []
    for check in due:
        check.status = CreditCheck.Status.APPROVED
        check.decided_on = day
        check.save(update_fields=["status", "decided_on"])
        event_record(tenant=check.tenant, actor="system", verb=CREDIT_CHECK_APPROVED, obj=check,
                     data={"requested": check.requested.isoformat(), "reason": "two business days passed"})
        happened.append(Happening(day, Kind.CREDIT_CHECK, check.tenant_id, check.tenant.domain,
                                  Text(CREDIT_CHECK, date=check.requested), Text(CREDIT_CHECK_PASSED),
                                  f"credit_check/{check.pk}"))
    return happened


@transaction.atomic
def credit_check_decide(*, check_id, approve: bool, actor: str, reason: str = "",
                        reason_required: bool = False) -> CreditCheck:
    """Support staff decide a pending credit check before the two business days are up (why: kept
    on the audit event)."""
    check = credit_check_get(tenant=None, id=check_id, lock=True)
    reason = support_reason_clean(reason, required=reason_required)
    if check.status != CreditCheck.Status.PENDING:
        raise Conflict(_("The credit check was already decided."), code="credit_check_decided")
    check.status = CreditCheck.Status.APPROVED if approve else CreditCheck.Status.REJECTED
    check.decided_on = clock.today()
    check.save(update_fields=["status", "decided_on"])
    event_record(tenant=check.tenant, actor=actor, verb=CREDIT_CHECK_DECIDED[check.status], obj=check,
                 data={"reason": reason} if reason else None)
    return check
