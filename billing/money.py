"""Money: Decimal with two places, rounded half up, once per invoice line."""

from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")


def money(value) -> Decimal:
    """Round a Decimal (or an int / str) to cents, half up. The one rounding helper."""
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)
