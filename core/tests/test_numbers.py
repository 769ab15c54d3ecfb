"""core.numbers: the one parser and formatter of numbers people type and read (docs/DATA_ENTRY.md)."""

from decimal import Decimal

import pytest
from django import forms
from django.core.exceptions import ValidationError
from django.template import Context, Template

from core.forms import LocalDecimalField
from core.numbers import format_number, format_plain, parse_number

NBSP = "\u00a0"


@pytest.mark.parametrize(("text", "locale", "expected"), [
    ("5000,5", "en-ZA", "5000.5"),
    ("5000,5", "en-US", "5000.5"),  # a decimal comma is read as one in any locale, never as 50 005
    ("12,50", "en-ZA", "12.50"),
    ("12,50", "en-US", "12.50"),
    ("5000.5", "en-ZA", "5000.5"),
    ("5 000,5", "en-ZA", "5000.5"),
    (f"5{NBSP}000,5", "en-ZA", "5000.5"),
    ("5 000.5", "en-ZA", "5000.5"),  # spaces group, the one point can only be the decimal mark
    ("1 234 567,89", "en-ZA", "1234567.89"),
    ("5,000.5", "en-US", "5000.5"),
    ("1,234,567.89", "en-US", "1234567.89"),
    ("1,234", "en-US", "1234"),  # the locale groups with a comma and three digits follow
    ("1,234", "en-ZA", "1.234"),
    ("-12,50", "en-ZA", "-12.50"),
    ("\u221212,50", "en-ZA", "-12.50"),  # a typographic minus pasted from a document
    ("  7  ", "en-ZA", "7"),
    ("5.000,5", "de-DE", "5000.5"),
])
def test_numbers_people_type_are_read_as_they_mean_them(text, locale, expected):
    assert parse_number(text, locale) == Decimal(expected)


@pytest.mark.parametrize(("text", "locale", "says"), [
    ("5,000.5,1", "en-ZA", "mixes commas and points"),
    ("5,000.5,1", "en-US", "mixes commas and points"),
    ("5.000,5", "en-ZA", "If you meant 5 000,5, type 5000,5"),
    ("5,000.5", "en-ZA", "If you meant 5 000,5, type 5000,5"),
    ("5.000,5", "en-US", "If you meant 5,000.5, type 5000.5"),
    ("5,000,000", "en-ZA", "If you meant 5 000 000, type 5000000"),
    ("1.000.000", "en-US", "If you meant 1,000,000, type 1000000"),
    ("5 000,5", "en-US", "has a space in it"),
    ("50 00,5", "en-ZA", "is ambiguous"),
    ("abc", "en-ZA", "is not a number. Type digits with one decimal comma, e.g. 5000,5"),
    ("1e5", "en-US", "is not a number. Type digits with one decimal point, e.g. 5000.5"),
    ("NaN", "en-ZA", "is not a number"),
    ("Infinity", "en-US", "is not a number"),
])
def test_ambiguous_numbers_are_refused_saying_what_to_type(text, locale, says):
    with pytest.raises(ValidationError) as refused:
        parse_number(text, locale)

    assert refused.value.code == "number"
    assert says in refused.value.messages[0]
    assert f"“{text}”" in refused.value.messages[0]


def test_blank_is_none():
    assert parse_number("", "en-ZA") is None and parse_number("   ", "en-US") is None


@pytest.mark.parametrize(("value", "places", "locale", "shown"), [
    (Decimal("5000.5"), 2, "en-ZA", f"5{NBSP}000,50"),
    (Decimal("5000.5"), 2, "en-US", "5,000.50"),
    (Decimal("99999999"), 2, "en-US", "99,999,999.00"),
    (Decimal("0"), 2, "en-ZA", "0,00"),
    (0, 2, "en-US", "0.00"),
    (Decimal("-1234.567"), 2, "en-US", "-1,234.57"),
    (Decimal("1234.5"), 0, "en-US", "1,235"),
    (Decimal("1234.125"), None, "en-US", "1,234.125"),
    ("3500.00", 2, "en-US", "3,500.00"),  # history payloads keep amounts as strings
    (None, 2, "en-US", ""),
    ("n/a", 2, "en-US", "n/a"),
])
def test_numbers_are_shown_with_the_locales_separators_and_fixed_decimals(value, places, locale, shown):
    assert format_number(value, places=places, locale_tag=locale) == shown


def test_an_input_shows_the_locales_decimal_mark_without_grouping():
    assert format_plain(Decimal("5000.5"), places=2, locale_tag="en-ZA") == "5000,50"
    assert format_plain(Decimal("5000.5"), places=None, locale_tag="en-US") == "5000.5"


def test_every_formatted_number_reads_back_as_itself():
    for locale in ("en-ZA", "en-US", "de-DE", "fr-FR"):
        for value in (Decimal("0.01"), Decimal("5000.50"), Decimal("-1234567.89")):
            assert parse_number(format_number(value, locale_tag=locale), locale) == value
            assert parse_number(format_plain(value, locale_tag=locale), locale) == value


class WeightForm(forms.Form):
    kg = LocalDecimalField(max_digits=10, decimal_places=2, min_value=0, locale="en-ZA")


def test_the_form_field_takes_a_decimal_comma_and_keeps_djangos_limits():
    typed = WeightForm({"kg": "5000,5"})
    assert typed.is_valid() and typed.cleaned_data["kg"] == Decimal("5000.5")

    ambiguous = WeightForm({"kg": "5.000,5"})
    too_precise = WeightForm({"kg": "1,234"})
    negative = WeightForm({"kg": "-5"})

    assert not ambiguous.is_valid() and "type 5000,5" in ambiguous.errors["kg"][0]
    assert not too_precise.is_valid() and "2 decimal places" in too_precise.errors["kg"][0]
    assert not negative.is_valid() and "greater than or equal to 0" in negative.errors["kg"][0]


def test_the_form_field_is_a_text_input_for_a_decimal_keyboard():
    html = str(WeightForm(initial={"kg": Decimal("5000.50")})["kg"])

    assert 'type="text"' in html and 'inputmode="decimal"' in html and 'value="5000,5"' in html


@pytest.mark.django_db
def test_template_filters_use_the_request_companys_locale(acme):
    template = Template("{{ w|kg }} {{ a|money }} {{ c|number:0 }} {{ p|number }} {{ missing|kg }}|")
    context = Context({"w": Decimal("5000.5"), "a": Decimal("0"), "c": 12345, "p": Decimal("94.7")})

    with acme:  # acme's locale: en-ZA, the default
        shown = template.render(context)

    assert shown == f"5{NBSP}000,50 0,00 12{NBSP}345 94,7 |"
