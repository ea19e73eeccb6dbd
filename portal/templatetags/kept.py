"""``{% load kept %}``: the errors a redirect kept for one form of the page, by its name (``portal.pages``):
``{% with errors=kept|form_errors:form_id %}``, for forms named at render time (one per credit check)."""

from django import template

register = template.Library()


@register.filter
def form_errors(kept, form: str) -> dict:
    try:
        return kept.get(str(form)) or {}
    except AttributeError:
        return {}
