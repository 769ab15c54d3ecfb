"""Numbers on pages and printouts, as the company's locale writes them: `{% load numbers %}`.

    {{ batch.net_weight_kg|kg }}      5 000,50 (en-ZA), 5,000.50 (en-US): always two decimals
    {{ payment.amount|money }}        the same, for amounts
    {{ pallet.cartons|number:0 }}     any fixed number of decimals; |number alone keeps the value's own

The locale is the request company's, on the connection (core.numbers.current_locale): no query per call.
"""

from django import template

from core.numbers import current_locale, format_number

register = template.Library()


@register.filter
def kg(value):
    return format_number(value, places=2)


@register.filter
def money(value):
    return format_number(value, places=2)


@register.filter
def number(value, places=None):
    if places in (None, ""):
        return format_number(value, places=None)
    try:
        return format_number(value, places=int(places))
    except (TypeError, ValueError):
        return format_number(value, places=None)


@register.simple_tag
def number_locale():
    """The company's locale tag ("en-ZA"), for script that formats numbers as the page does."""
    return current_locale()
