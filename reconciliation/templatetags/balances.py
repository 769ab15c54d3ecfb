"""A balance is shown as words and a positive amount ("Owed to grower 1 200.00"), never as a bare minus."""

from django import template

register = template.Library()


@register.filter
def absolute(value):
    """|value|, for an amount whose sign the words beside it already say."""
    return None if value is None else abs(value)
