"""The texts planchange generates, for the one registry (``portal.texts``): why a change was refused
or failed and why it was cancelled (kept on the change, shown later in the reader's language), and
what its audit events say."""

from django.utils.translation import gettext, ngettext, ngettext_lazy
from django.utils.translation import gettext_lazy as _

from billing.money import money_text
from planchange.blockers import titles
from planchange.models import PlanChange, StepName
from planchange.verbs import (
    PLAN_CHANGE_CANCELLED,
    PLAN_CHANGE_FAILED,
    PLAN_CHANGE_REQUESTED,
    PLAN_CHANGE_RETRIED,
    PLAN_CHANGE_RUNNING,
    PLAN_CHANGE_STARTED,
    PLAN_CHANGE_STUCK,
    STEP_DONE,
)
from portal.texts import render_or

SAME_PLAN = "error.same_plan"
INVALID_SCHEDULE = "error.invalid_schedule"
SCHEDULE_NEEDS_PROFILE = "error.schedule_needs_profile"
INVALID_LICENSES = "error.invalid_licenses"
LICENSES_TOO_FEW = "error.licenses_too_few"
PAYMENT_METHOD_REQUIRED = "error.payment_method_required"
RENEWAL_TOO_LATE = "error.renewal_too_late"
UNEXPECTED = "error.unexpected"
INTO_CHANGED = "error.into_changed"

# Why a scheduled change was cancelled (its error_detail and its event's reason, in English).
REPLACED_BY_IMMEDIATE = "cancelled.replaced_by_immediate"
CANCELLED_BY_ADMIN = "cancelled.by_admin"
CANCELLED_BY_SUPPORT = "cancelled.by_support"
RECURRING_BILLING_OFF = "cancelled.recurring_billing_off"
SUBSCRIPTION_CANCELLED = "cancelled.subscription_cancelled"

MESSAGES = {
    SAME_PLAN: _("The subscription already is %(product)s."),
    INVALID_SCHEDULE: _("When must be now or renewal."),
    SCHEDULE_NEEDS_PROFILE: _("Without a billing profile a plan change takes effect now; it can't wait for renewal."),
    INVALID_LICENSES: _("The number of licenses must be a whole number of at least 1."),
    LICENSES_TOO_FEW: ngettext_lazy(
        "%(users)d user has a license on the current plan; the new plan needs at least %(users)d license, not "
        "%(licenses)d.",
        "%(users)d users have licenses on the current plan; the new plan needs at least %(users)d licenses, not "
        "%(licenses)d.", "users"),
    PAYMENT_METHOD_REQUIRED: _("Choose or add a payment method."),
    RENEWAL_TOO_LATE: _("The renewal on %(date)s is after %(last)s, the end of the simulation's time; change now "
                        "instead."),
    INTO_CHANGED: _("The subscription the users were to go into isn't the one a change would take now (you bought "
                    "or ended a subscription of %(product)s since). Nothing was changed: request the change again."),
    UNEXPECTED: _("An unexpected error stopped the change before anything was changed. Try again, or contact "
                  "support if it happens again."),
    REPLACED_BY_IMMEDIATE: _("replaced by an immediate plan change"),
    CANCELLED_BY_ADMIN: _("cancelled by an admin"),
    CANCELLED_BY_SUPPORT: _("cancelled by support: %(reason)s"),
    RECURRING_BILLING_OFF: _("recurring billing was turned off, so the subscription won't renew"),
    SUBSCRIPTION_CANCELLED: _("the subscription was cancelled"),
}


# --- What a clock move tells of a change scheduled for renewal (portal.happenings), said when read ---------------

SCHEDULED_COMPLETED = "happening.scheduled_completed"
SCHEDULED_FAILED = "happening.scheduled_failed"
SCHEDULED_STARTED = "happening.scheduled_started"


def _scheduled_failed(params: dict) -> str:
    """Why: the blockers' titles, else the change's own reason (its text and params, or the English it kept)."""
    why = titles(params.get("blockers") or []) or [render_or(params.get("error_text") or "",
                                                             params.get("error_params"), params.get("error") or "")]
    return gettext("The change scheduled for renewal failed: %(why)s") % {"why": " ".join(why)}


MESSAGES |= {
    SCHEDULED_COMPLETED: ngettext_lazy("The change scheduled for renewal completed: %(licenses)d license of "
                                       "%(target)s.", "The change scheduled for renewal completed: %(licenses)d "
                                       "licenses of %(target)s.", "licenses"),
    SCHEDULED_FAILED: _scheduled_failed,
    SCHEDULED_STARTED: _("The change scheduled for renewal started; a worker finishes it."),
}


# --- What planchange's audit events say (their params are the events' data) ----------------------

_CANCELLED = {  # why a scheduled change was cancelled, as its event says it
    REPLACED_BY_IMMEDIATE: _("The change scheduled for %(date)s was cancelled: an immediate plan change replaced it."),
    CANCELLED_BY_ADMIN: _("An admin cancelled the change scheduled for %(date)s."),
    CANCELLED_BY_SUPPORT: _("Support cancelled the change scheduled for %(date)s: %(reason)s"),
    RECURRING_BILLING_OFF: _("The change scheduled for %(date)s was cancelled: recurring billing was turned off, so "
                             "the subscription won't renew."),
    SUBSCRIPTION_CANCELLED: _("The change scheduled for %(date)s was cancelled with its subscription."),
}


def _step(name: str) -> str:
    return str(StepName(name).label) if name in StepName.values else name


def _requested(params: dict) -> str:
    if params.get("schedule") == PlanChange.Schedule.RENEWAL:
        return ngettext("Plan change scheduled for the renewal on %(date)s, with %(licenses)d license.",
                        "Plan change scheduled for the renewal on %(date)s, with %(licenses)d licenses.",
                        params["licenses"]) % {"date": params["effective_date"], "licenses": params["licenses"]}
    return ngettext("Plan change requested, with %(licenses)d license, to take effect now.",
                    "Plan change requested, with %(licenses)d licenses, to take effect now.",
                    params["licenses"]) % params


def _billed(params: dict) -> str:
    credit = str(params.get("credit") or "0").lstrip("-")
    if params.get("into"):  # into a subscription the tenant has: its added licenses, for the rest of its period
        if credit.strip("0.") == "":
            return gettext("Billed: the licenses added are charged for the rest of the period.")
        return gettext("Billed: the licenses added are charged for the rest of the period and %(credit)s credited "
                       "for the unused days.") % {"credit": money_text(credit)}
    if credit.strip("0.") == "":
        return gettext("Billed: the new plan's first period is charged.")
    return gettext("Billed: the new plan's first period is charged and %(credit)s credited for the unused "
                   "days.") % {"credit": money_text(credit)}


def _failed(params: dict) -> str:
    why = titles(params.get("blockers") or [])
    if not why and params.get("text"):
        why = [render_or(params["text"], params.get("params"), params.get("detail", ""))]
    if not why:
        return gettext("The change failed at “%(step)s”; nothing was changed.") % {"step": _step(params["step"])}
    return gettext("The change failed; nothing was changed. %(why)s") % {"why": " ".join(why)}


def _cancelled(params: dict) -> str:
    message = _CANCELLED.get(params.get("reason_text", ""))
    if message is None:
        return gettext("The change scheduled for %(date)s was cancelled: %(reason)s") % {
            "date": params.get("scheduled_for", ""), "reason": params.get("reason", "")}
    return message % {**params.get("reason_params", {}), "date": params.get("scheduled_for", "")}


EVENTS = {
    PLAN_CHANGE_REQUESTED: _requested,
    PLAN_CHANGE_STARTED: _("The change scheduled for %(scheduled_for)s started."),
    PLAN_CHANGE_RUNNING: _("A worker started on the change."),
    STEP_DONE[StepName.VALIDATE]: _("Checked: nothing prevents the change; it takes effect on %(effective_date)s."),
    STEP_DONE[StepName.PROVISION]: _("The new subscription is set up."),
    STEP_DONE[StepName.MIGRATE_LICENSES]: ngettext_lazy("Licenses moved: %(users)d user has the new plan.",
                                                       "Licenses moved: %(users)d users have the new plan.", "users"),
    STEP_DONE[StepName.BILL]: _billed,
    STEP_DONE[StepName.CANCEL_SOURCE]: _("The old subscription is cancelled."),
    STEP_DONE[StepName.COMPLETE]: _("The change is complete."),
    PLAN_CHANGE_FAILED: _failed,
    PLAN_CHANGE_STUCK: lambda params: gettext("Stuck at “%(step)s”: support staff have been told. Users keep a "
                                                "license throughout.") % {"step": _step(params["step"])},
    PLAN_CHANGE_RETRIED: lambda params: gettext("Support staff ran “%(step)s” again.") % {
        "step": _step(params["step"])},
    PLAN_CHANGE_CANCELLED: _cancelled,
}
