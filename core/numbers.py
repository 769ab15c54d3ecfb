"""Numbers as people type and read them: the one parser and the one formatter (docs/DATA_ENTRY.md).

Babel holds the locale data (CLDR): which mark groups thousands and which
separates decimals. The rules on top of it are ours, because a weighbridge
clerk types "5000,5" in any locale and means 5000.5, never 50005:

- a number in the locale's own format is read by Babel's strict parser;
- a number with a single comma or point and no other mark reads that mark as
  the decimal separator, unless the locale groups with it and three digits
  follow ("1,234" in en-US is 1234);
- spaces group thousands only where the locale groups with a space;
- anything else ("5,000.5,1"; "5.000,5" or "5,000.5" where the locale groups
  with spaces) is refused, and the message says what it could mean and what
  to type.
"""

import functools
import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from babel import Locale
from babel.numbers import NumberFormatError, format_decimal, parse_decimal
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection

DEFAULT_LOCALE = "en-ZA"
# Every kind of space a keyboard, a spreadsheet or a copied page puts between thousands.
SPACES = re.compile(r"[\s\u00a0\u202f\u2009\u2007]+")
ALLOWED = re.compile(r"^[+-]?[0-9., \u00a0]+$")
MARKS = ",."


@functools.lru_cache(maxsize=64)
def babel_locale(tag):
    """The Babel Locale of a BCP 47 tag ("en-ZA"); an unknown tag falls back to the default."""
    try:
        return Locale.parse(tag.replace("-", "_"))
    except (ValueError, TypeError, LookupError):
        return Locale.parse(DEFAULT_LOCALE.replace("-", "_"))


def current_locale():
    """The locale of the request's company: django-tenants put it on the connection, so no query."""
    return getattr(connection.tenant, "locale", None) or getattr(settings, "DEFAULT_LOCALE", DEFAULT_LOCALE)


def _group_symbol(locale):
    return locale.number_symbols["latn"]["group"]


def _decimal_symbol(locale):
    return locale.number_symbols["latn"]["decimal"]


def _groups_with_space(locale):
    return bool(SPACES.fullmatch(_group_symbol(locale)))


def parse_number(text, locale_tag=None):
    """The Decimal `text` means in the locale, or a ValidationError (code "number") saying what to type.

    Blank text is None. `locale_tag` defaults to the request company's locale.
    """
    raw = (text or "").strip().replace("\u2212", "-")  # a typographic minus, pasted from a document
    if not raw:
        return None
    locale = babel_locale(locale_tag or current_locale())
    if not ALLOWED.match(SPACES.sub(" ", raw)):
        raise _refusal(raw, "is not a number", locale)
    has_space = bool(SPACES.search(raw))
    if has_space and not _groups_with_space(locale):
        raise _refusal(raw, "is ambiguous: it has a space in it", locale, _plain_guess(SPACES.sub("", raw)))
    # Babel matches the locale's own group symbol only: make every space that symbol.
    text = SPACES.sub(_group_symbol(locale), raw) if has_space else raw
    marks = [char for char in raw if char in MARKS]
    try:
        value = parse_decimal(text, locale=locale, strict=True)
    except NumberFormatError:
        value = None
    if value is None and len(marks) == 1:
        if has_space:
            # "5 000.5" where the locale writes "5 000,5": the one mark can only be the decimal one.
            try:
                value = parse_decimal(re.sub("[,.]", _decimal_symbol(locale), text), locale=locale, strict=True)
            except NumberFormatError:
                value = None
        else:
            value = _plain(raw.replace(",", "."))
    if value is None:
        problem = "is ambiguous: it mixes commas and points" if len(set(marks)) > 1 else "is ambiguous"
        raise _refusal(raw, problem, locale, _plain_guess(raw))
    if not value.is_finite():
        raise _refusal(raw, "is not a number", locale)
    return value


def _plain(text):
    try:
        return Decimal(text)
    except InvalidOperation:
        return None


def _plain_guess(text):
    """The likeliest reading of a refused number: its last mark as the decimal separator, the others as grouping."""
    digits_and_marks = SPACES.sub("", text)
    marks = [char for char in digits_and_marks if char in MARKS]
    if not marks or len(set(marks)) == 1 and len(marks) > 1:
        # No mark, or one mark repeated ("1.000.000"): they can only group thousands.
        return _plain(digits_and_marks.replace(",", "").replace(".", ""))
    if marks.count(marks[-1]) > 1:
        return None  # "5,000.5,1": no reading is likelier than another
    last = digits_and_marks.rfind(marks[-1])
    whole = digits_and_marks[:last].replace(",", "").replace(".", "")
    return _plain(f"{whole}.{digits_and_marks[last + 1:]}")


def _refusal(raw, problem, locale, guess=None):
    decimal = _decimal_symbol(locale)
    if guess is not None and guess.is_finite():
        plain = format_decimal(guess, format="0.##########", locale=locale)
        grouped = format_number(guess, locale_tag=locale, places=None)
        meaning = f"If you meant {grouped}, type {plain}"
        if plain != grouped:
            meaning += f" or {grouped}"
        message = f"“{raw}” {problem}. {meaning}.".replace("\u00a0", " ").replace("\u202f", " ")
    else:
        message = f"“{raw}” {problem}. Type digits with one decimal {'comma' if decimal == ',' else 'point'}, " \
                  f"e.g. {format_decimal(Decimal('5000.5'), format='0.#', locale=locale)}."
    return ValidationError(message, code="number")


def format_number(value, places=2, locale_tag=None):
    """`value` as the locale writes it, thousands grouped, with `places` fixed decimals ("5 000,50" in en-ZA).

    places=None keeps the value's own decimals. None and "" are "" (nothing to show); text that is no number
    passes through unchanged, so a template never fails on it.
    """
    if value is None or value == "":
        return ""
    if not isinstance(value, Decimal):
        try:
            value = Decimal(str(value))
        except InvalidOperation:
            return value
    if not value.is_finite():
        return str(value)
    locale = locale_tag if isinstance(locale_tag, Locale) else babel_locale(locale_tag or current_locale())
    if places is None:
        pattern = "#,##0.##########"
    else:
        # Half up, as people round by hand (Decimal's default, half even, shows 1234.5 as 1234).
        value = value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
        pattern = "#,##0" + ("." + "0" * places if places else "")
    return format_decimal(value, format=pattern, locale=locale, decimal_quantization=False)


def format_plain(value, places=2, locale_tag=None):
    """`value` with the locale's decimal mark and no grouping: what an input shows for editing ("5000,50")."""
    if value is None or value == "":
        return ""
    if not isinstance(value, Decimal):
        try:
            value = Decimal(str(value))
        except InvalidOperation:
            return value
    locale = babel_locale(locale_tag or current_locale())
    pattern = "0" + ("." + "0" * places if places else "") if places is not None else "0.##########"
    return format_decimal(value, format=pattern, locale=locale, decimal_quantization=places is not None)
