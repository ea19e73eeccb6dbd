"""Money: Decimal with two places, rounded half up, once per invoice line; and how it reads."""

from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

from babel import Locale
from babel.numbers import parse_pattern
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


@lru_cache(maxsize=64)
def _pattern(locale: str):
    """The locale and its currency pattern, parsed once (what ``babel.numbers.format_currency`` parses on
    every call)."""
    parsed = Locale.parse(locale)
    own = PATTERNS.get(locale.split("_")[0])
    return parsed, parse_pattern(own) if own else parsed.currency_formats["standard"]


@lru_cache(maxsize=8192)
def _formatted(amount: str, currency: str, locale: str) -> str:
    # Keyed by the rounded amount's text: "-0.00" and "0.00" stay apart, as Babel writes them.
    parsed, pattern = _pattern(locale)
    return pattern.apply(Decimal(amount), parsed, currency=currency)


def money_text(value, *, currency: str = CURRENCY, language: str | None = None) -> str:
    """An amount as the reader's language writes it, with its currency and thousands separators, through
    Babel: ``USD 1,402.43`` in English, ``1 402,43 US$`` in Swedish. ``language`` defaults to the active one;
    the amount is rounded by ``money`` first. The day loop formats thousands of amounts, most of them
    alike: each locale's pattern is parsed once and each amount's text kept."""
    language = language or translation.get_language() or "en"
    return _formatted(str(money(value)), currency, translation.to_locale(language))


def number_text(value: int, *, language: str | None = None) -> str:
    """A count as the reader's language writes it, through Babel: ``200,000`` in English, ``200 000`` in
    Swedish."""
    from babel.numbers import format_decimal

    language = language or translation.get_language() or "en"
    return format_decimal(value, locale=translation.to_locale(language))
