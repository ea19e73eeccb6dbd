from django import template

from billing.money import money_text

register = template.Library()


@register.filter
def money(value) -> str:
    """An amount in the reader's language (``USD 1,402.43``, ``1 402,43 US$``): ``billing.money.money_text``."""
    if value is None or value == "":
        return "—"
    return money_text(value)
