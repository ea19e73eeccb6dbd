from django import template

from billing.money import money_text, number_text

register = template.Library()


@register.filter
def money(value) -> str:
    """An amount in the reader's language (``USD 1,402.43``, ``1 402,43 US$``): ``billing.money.money_text``."""
    if value is None or value == "":
        return "—"
    return money_text(value)


@register.filter
def number(value) -> str:
    """A count in the reader's language (``3,650``, ``3 650``): ``billing.money.number_text``."""
    if value is None or value == "":
        return "—"
    return number_text(value)
