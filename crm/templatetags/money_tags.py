"""Amounts as people read them: currency and digit grouping.

The server writes "€116,204.00" (English grouping) inside ``<data class="money">`` with the raw
value and currency; static/money.js re-formats it in the browser's locale with
Intl.NumberFormat ("116.204,00 €" for a German browser)."""

from decimal import Decimal, InvalidOperation

from django import template
from django.utils.html import format_html

register = template.Library()

SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£", "JPY": "¥", "CHF": "CHF "}


def money_text(amount, currency: str = "EUR", *, places: int = 2) -> str:
    try:
        value = Decimal(amount or 0)
    except (InvalidOperation, TypeError, ValueError):
        return ""
    currency = (currency or "EUR").upper()
    number = f"{abs(value):,.{places}f}"
    sign = "-" if value < 0 else ""
    symbol = SYMBOLS.get(currency)
    return f"{sign}{symbol}{number}" if symbol else f"{sign}{number} {currency}"


@register.simple_tag
def money(amount, currency="EUR", places=2):
    """``{% money deal.amount deal.currency %}``; ``places=0`` for totals."""
    text = money_text(amount, currency, places=places)
    return format_html(
        '<data class="money" value="{}" data-currency="{}" data-places="{}">{}</data>',
        amount if amount is not None else 0,
        (currency or "EUR").upper(),
        places,
        text,
    )
