"""The one form an email address is stored, looked up and counted in.

PostgreSQL's case-insensitive comparisons fold characters Python's lower()
leaves alone ('ſ' U+017F to 'S', 'ı' U+0131 to 'I'), so matching with
`iexact` let look-alike spellings reach an account while django-axes
counted each spelling apart. Every path that takes an email from outside
(user creation, the login form, the API login, axes' username) goes
through canonical_email, and lookups compare the canonical strings exactly.

NFKC turns compatibility forms into their plain letters (ſ to s, full-width
ｖ to v); casefold does the rest of the case folding Unicode defines; the
domain goes to ASCII through IDNA, so 'bücher.example' and
'xn--bcher-kva.example' are one domain. A local part still non-ASCII after
that ('ı' has no plain letter to fold to) is refused rather than made a
separate account: Python's re with IGNORECASE matches 'ı' against [a-z], so
Django's email validator would accept it.
"""

import unicodedata

MAX_LENGTH = 254


def canonical_email(value):
    """The canonical spelling of `value`; ValueError if it has no valid one."""
    text = unicodedata.normalize("NFKC", str(value).strip())
    # casefold can yield sequences NFKC would compose again.
    text = unicodedata.normalize("NFKC", text.casefold())
    local, at, domain = text.rpartition("@")
    if not at or not local or not domain:
        raise ValueError("Not an email address.")
    if not local.isascii():
        raise ValueError("The part before @ must be plain ASCII letters, digits or punctuation.")
    try:
        domain = domain.encode("idna").decode("ascii")
    except UnicodeError as error:
        raise ValueError(f"Not a valid domain: {error}") from None
    return f"{local}@{domain.lower()}"


def canonical_or_raw(value):
    """canonical_email, or for text with no canonical form the stripped, case-folded text (for counting)."""
    try:
        return canonical_email(value)
    except ValueError:
        return unicodedata.normalize("NFKC", str(value).strip()).casefold()
