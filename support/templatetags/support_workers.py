"""``{% workers_health as queues %}``: the workers of each queue and the work waiting for them, for the
banner every support page shows (``templates/support/_workers.html``)."""

from django import template

from support.workers import QueueHealth, workers_health

register = template.Library()


@register.simple_tag(name="workers_health")
def workers_health_tag() -> list[QueueHealth]:
    return workers_health()
