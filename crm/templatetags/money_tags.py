"""Amounts as people read them: currency and digit grouping.

The server writes "€116,204.00" (English grouping) inside ``<data class="money">`` with the raw
value and currency; static/money.js re-formats it in the browser's locale with
Intl.NumberFormat ("116.204,00 €" for a German browser)."""

from decimal import Decimal, InvalidOperation

from django import template
from django.utils.html import format_html

register = template.Library()

SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£", "JPY": "¥", "CHF": "CHF "}


def money_text(amount, currency: str = "EUR", *, places: int | str = 2) -> str:
    """``places="auto"``: no decimals for a whole amount, two otherwise."""
    try:
        value = Decimal(amount or 0)
    except (InvalidOperation, TypeError, ValueError):
        return ""
    places = _places(value, places)
    currency = (currency or "EUR").upper()
    number = f"{abs(value):,.{places}f}"
    sign = "-" if value < 0 else ""
    symbol = SYMBOLS.get(currency)
    return f"{sign}{symbol}{number}" if symbol else f"{sign}{number} {currency}"


def _places(value: Decimal, places: int | str) -> int:
    if places == "auto":
        return 0 if value == value.to_integral_value() else 2
    return int(places)


@register.simple_tag
def money(amount, currency="EUR", places=2):
    """``{% money deal.amount deal.currency %}``; ``places=0`` for totals, ``"auto"`` for no
    cents on a whole amount."""
    text = money_text(amount, currency, places=places)
    try:
        places = _places(Decimal(amount or 0), places)
    except (InvalidOperation, TypeError, ValueError):
        places = 2
    return format_html(
        '<data class="money" value="{}" data-currency="{}" data-places="{}">{}</data>',
        amount if amount is not None else 0,
        (currency or "EUR").upper(),
        places,
        text,
    )


@register.filter
def money_plain(amount, currency="EUR"):
    """Plain text without decimals (an SVG ``<title>``): ``{{ total|money_plain:"EUR" }}``."""
    return money_text(amount, currency, places=0)
