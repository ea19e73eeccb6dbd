"""The audit verbs planchange records (``portal.services.event_record``), each registered with what it says
(``planchange/texts.py`` ``EVENTS``): a verb is written here once and nowhere as a string literal."""

from planchange.models import StepName

PLAN_CHANGE_CANCELLED = "plan_change.cancelled"
PLAN_CHANGE_FAILED = "plan_change.failed"
PLAN_CHANGE_REQUESTED = "plan_change.requested"
PLAN_CHANGE_RETRIED = "plan_change.retried"
PLAN_CHANGE_RUNNING = "plan_change.running"
PLAN_CHANGE_STARTED = "plan_change.started"
PLAN_CHANGE_STUCK = "plan_change.stuck"

# A workflow step done: plan_change.step.validate, …, plan_change.step.complete.
STEP_DONE = {name: f"plan_change.step.{name}" for name in StepName.values}
