"""Generated texts in the reader's language: ``{{ line|line_text }}``, ``{{ event|event_text }}``
(``portal.texts``)."""

from django import template

from portal.texts import event_key, render_or

register = template.Library()


def _field(obj, name: str, default):
    if isinstance(obj, dict):
        return obj.get(name, default)
    return getattr(obj, name, default)


@register.filter
def line_text(line) -> str:
    """An invoice line or a quote's line in the active language; one without a key (older, or a
    scenario's own) shows its stored description."""
    description = _field(line, "description", "")
    return render_or(_field(line, "text", ""), _field(line, "params", None) or {}, description)


@register.filter
def event_text(event) -> str:
    """What an audit event says happened, in the active language; a verb nobody describes shows as
    it is."""
    return render_or(event_key(event.verb), event.data if isinstance(event.data, dict) else {}, event.verb)
