from django import template

from billing.money import money as to_cents

register = template.Library()


@register.filter
def money(value) -> str:
    """``USD 13.13``: two decimals, rounded half up by the one rounding helper."""
    if value is None or value == "":
        return "—"
    return f"USD {to_cents(value)}"
