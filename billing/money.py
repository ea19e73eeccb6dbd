"""Money: Decimal with two places, rounded half up, once per invoice line; and how it reads."""

from decimal import ROUND_HALF_UP, Decimal

from babel.numbers import format_currency
from django.utils import translation

CENT = Decimal("0.01")
CURRENCY = "USD"

# How a language writes an amount where CLDR's own pattern is not the admin center's: English names the
# currency by its ISO code ("USD 1,402.43", not "$1,402.43"). Every other language reads as CLDR writes it
# (Swedish "1 402,43 US$", with CLDR's no-break spaces).
PATTERNS = {"en": "¤¤ #,##0.00"}


def money(value) -> Decimal:
    """Round a Decimal (or an int / str) to cents, half up. The one rounding helper."""
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def money_text(value, *, currency: str = CURRENCY, language: str | None = None) -> str:
    """An amount as the reader's language writes it, with its currency and thousands separators, through
    Babel: ``USD 1,402.43`` in English, ``1 402,43 US$`` in Swedish. ``language`` defaults to the active one;
    the amount is rounded by ``money`` first."""
    language = language or translation.get_language() or "en"
    locale = translation.to_locale(language)
    return format_currency(money(value), currency, format=PATTERNS.get(locale.split("_")[0]), locale=locale)
