"""Template filters for report pages: a fraction as a percentage, a p-value, yuan."""

from django import template

register = template.Library()


@register.filter
def pct(value, digits=1):
    """0.0789 → "7.9%"; None → "—"."""
    if value is None or value == "":
        return "—"
    return f"{value * 100:.{int(digits)}f}%"


@register.filter
def pvalue(value):
    if value is None:
        return "—"
    return "< 0.0001" if value < 0.0001 else f"{value:.4f}"


@register.filter
def yuan(value):
    """A yuan amount with two decimals and thousands separators; None → "—"."""
    if value is None:
        return "—"
    return f"{value:,.2f}"


@register.filter
def num(value, digits=2):
    if value is None:
        return "—"
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:,.{int(digits)}f}"


@register.filter
def get_item(mapping, key):
    return (mapping or {}).get(key)
