"""Filters of the b2b console pages: fen as yuan, basis points as a percentage."""

from django import template

register = template.Library()


@register.filter
def yuan_of_fen(value):
    """12345 → "123.45" with thousands separators; None → "—"."""
    if value is None or value == "":
        return "—"
    return f"{int(value) / 100:,.2f}"


@register.filter
def bp_pct(value):
    """2500 → "25.00%"; None → "—"."""
    if value is None or value == "":
        return "—"
    return f"{int(value) / 100:.2f}%"
