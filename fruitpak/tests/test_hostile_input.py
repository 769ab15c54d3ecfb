"""Hostile input on every form people use, and in the API's JSON bodies.

Each field of each form gets huge strings, right-to-left and combining
unicode, emoji, a NUL byte, HTML and JavaScript, and (number fields) negative,
non-finite, absurd and malformed numbers. The answer is either a form error
(nothing stored) or a save that stores the value exactly as typed (less the
surrounding whitespace Django trims) and shows it escaped. Never a 500, never
a value stored mangled. A NUL byte, which PostgreSQL cannot store in text, is
always a form error.
"""

import json
from dataclasses import dataclass, field
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.utils.html import escape

from batches import services as batch_services
from batches.models import Batch
from batches.tests.factories import BatchFactory
from core.numbers import parse_number
from core.tenancy import company_today
from growers.models import Grower
from growers.tests.factories import GrowerFactory
from packhouses.models import Packhouse
from packhouses.tests.factories import PackhouseFactory
from payments.models import GrowerPayment, PriceAgreement

pytestmark = pytest.mark.django_db

SCRIPT = "<script>alert(1)</script>"
ATTRIBUTE = '" onmouseover="alert(1)'
TEXT = {
    "huge": "A" * 100_000,
    "long": "Ω" * 5001,
    "rtl": "\u202eevil\u202c مزرعة التفاح",
    "emoji": "🍎🍐 Farm 👩🏽‍🌾",
    "combining": "Z̤͔ͧ̑̓ä͖̭̈̇lg͎̯̈́o̚",
    "nul": "Oak\x00Farm",
    "script": SCRIPT,
    "attribute": ATTRIBUTE,
    "sql": "'; DROP TABLE growers; --",
    "blank": "   ",
}
NUMBERS = {
    "negative": "-1", "negative-big": "-99999999", "exponent": "1e309", "nan": "NaN", "infinity": "Infinity",
    "minus-infinity": "-Infinity", "absurd": "123456789012345.123", "many-decimals": "1.123456789",
    "hex": "0x10", "comma": "1,5", "digits": "9" * 400, "text": SCRIPT, "nul": "1\x002",
}
DANGEROUS = (SCRIPT, ATTRIBUTE)


@pytest.fixture
def world(acme):
    with acme:
        grower = GrowerFactory(code="GHOST1", name="Ghost Farm")
        packhouse = PackhouseFactory(code="PHX", name="Hostile Packhouse")
        batch = batch_services.transition(BatchFactory(grower=grower, packhouse=packhouse), "grading")
        return SimpleNamespace(grower=grower, packhouse=packhouse, batch=batch)


@dataclass
class Form:
    """A form: where it posts, who may, what a valid post holds, and where a saved value can be read back."""

    url: str
    role: str
    valid: object  # (world, n) -> dict of a valid post; n keeps unique fields unique
    text: list = field(default_factory=list)
    numbers: list = field(default_factory=list)
    stored: object = None  # (world, n, name) -> the saved row's value of `name`, or None if nothing was saved
    shown_at: object = None  # (world, n) -> a page that shows the saved row
    shown: tuple = ()  # the fields that page shows


def today():
    return str(company_today())


def newest(model, **lookup):
    return model.objects.filter(**lookup).order_by("-pk").first()


def stored_grower(w, n, name):
    row = newest(Grower, code=f"HX{n}") if name != "code" else newest(Grower, name=f"Hostile {n}")
    return getattr(row, name) if row else None


def stored_packhouse(w, n, name):
    row = newest(Packhouse, code=f"HX{n}") if name != "code" else newest(Packhouse, name=f"Hostile {n}")
    return getattr(row, name) if row else None


def stored_batch(w, n, name):
    row = newest(Batch, pk__gt=w.batch.pk)
    return getattr(row, name) if row else None


def stored_payment(w, n, name):
    row = newest(GrowerPayment, idempotency_key=f"key-{n}")
    return getattr(row, name) if row else None


FORMS = {
    "intake": Form(
        url="/batches/new/", role="Clerk",
        valid=lambda w, n: {"grower": w.grower.code, "packhouse": w.packhouse.pk, "fruit_type": "apple",
                            "variety": "Gala", "harvest_date": today(), "bin_count": "8",
                            "gross_weight_kg": "3200.00", "tare_weight_kg": "400.00", "notes": ""},
        text=["grower", "variety", "notes", "fruit_type", "harvest_date"],
        numbers=["bin_count", "gross_weight_kg", "tare_weight_kg", "packhouse"],
        stored=stored_batch, shown_at=lambda w, n: f"/batches/{newest(Batch).pk}/", shown=("variety", "notes"),
    ),
    "grower-new": Form(
        url="/growers/new/", role="Manager",
        valid=lambda w, n: {"code": f"HX{n}", "name": f"Hostile {n}", "contact_name": "", "email": "",
                            "phone": "", "region": "", "ggn": "", "active": "on"},
        text=["code", "name", "contact_name", "email", "phone", "region", "ggn"],
        stored=stored_grower, shown_at=lambda w, n: f"/growers/{newest(Grower).pk}/", shown=("name",),
    ),
    "grower-edit": Form(
        url="/growers/{grower}/edit/", role="Manager",
        valid=lambda w, n: {"code": "GHOST1", "name": "Ghost Farm", "contact_name": "", "email": "", "phone": "",
                            "region": "", "ggn": "", "active": "on"},
        text=["name", "contact_name", "region", "phone"],
        stored=lambda w, n, name: getattr(Grower.objects.get(pk=w.grower.pk), name),
        shown_at=lambda w, n: f"/growers/{w.grower.pk}/", shown=("name",),
    ),
    "packhouse-new": Form(
        url="/packhouses/new/", role="Manager",
        valid=lambda w, n: {"code": f"HX{n}", "name": f"Hostile {n}", "region": "", "active": "on"},
        text=["code", "name", "region"],
        stored=stored_packhouse, shown_at=lambda w, n: f"/packhouses/{newest(Packhouse).pk}/", shown=("name",),
    ),
    "packhouse-edit": Form(
        url="/packhouses/{packhouse}/edit/", role="Manager",
        valid=lambda w, n: {"code": "PHX", "name": "Hostile Packhouse", "region": "", "active": "on"},
        text=["name", "region"],
        stored=lambda w, n, name: getattr(Packhouse.objects.get(pk=w.packhouse.pk), name),
        shown_at=lambda w, n: f"/packhouses/{w.packhouse.pk}/", shown=("name",),
    ),
    "payment": Form(
        url="/payments/new/", role="Finance",
        valid=lambda w, n: {"grower": w.grower.code, "payment_type": "advance", "amount": "100.00",
                            "reference": f"EFT-HX-{n}", "paid_date": today(), "notes": "",
                            "idempotency_key": f"key-{n}"},
        text=["grower", "payment_type", "reference", "notes", "paid_date", "idempotency_key"],
        numbers=["amount"],
        stored=stored_payment, shown_at=lambda w, n: "/payments/", shown=("reference",),
    ),
    "price-agreement": Form(
        url="/admin/payments/priceagreement/add/", role="Manager",
        valid=lambda w, n: {"fruit_type": "apple", "variety": f"Hostile {n}", "grade": "class1",
                            "valid_from": f"{2000 + n % 90}-01-01", "valid_to": f"{2000 + n % 90}-12-31",
                            "price_per_kg": "5.2500", "notes": ""},
        text=["variety", "notes", "fruit_type", "grade", "valid_from"],
        numbers=["price_per_kg"],
        stored=lambda w, n, name: getattr(newest(PriceAgreement, valid_from=f"{2000 + n % 90}-01-01"), name, None),
        shown_at=lambda w, n: f"/admin/payments/priceagreement/{newest(PriceAgreement).pk}/change/",
        shown=("variety", "notes"),
    ),
}


def cases():
    for form_name, form in FORMS.items():
        for name in form.text:
            yield pytest.param(form_name, name, TEXT, id=f"{form_name}-{name}")
        for name in form.numbers:
            yield pytest.param(form_name, name, NUMBERS, id=f"{form_name}-{name}")


def expected_stored(form_name, name, value):
    value = value.strip()
    return value.upper() if name == "code" else value


def assert_escaped(body, where):
    for dangerous in DANGEROUS:
        assert dangerous not in body, f"{where}: {dangerous!r} is in the page unescaped"


@pytest.mark.parametrize(("form_name", "name", "values"), list(cases()))
def test_hostile_values_are_refused_or_stored_exactly_and_shown_escaped(acme, world, form_name, name, values):
    form = FORMS[form_name]
    client = acme.client(form.role)
    url = form.url.format(grower=world.grower.pk, packhouse=world.packhouse.pk)
    for n, (label, value) in enumerate(values.items()):
        where = f"{form_name}.{name} = {label}"
        with acme:
            before = form.stored(world, n, name)
        data = {**form.valid(world, n), name: value}

        response = client.post(url, data)

        assert response.status_code in (200, 302), f"{where}: {response.status_code}"
        with acme:
            after = form.stored(world, n, name)
        body = response.content.decode()
        assert_escaped(body, where)
        if response.status_code == 200:  # refused: the form is shown again with an error, nothing changed
            assert 'class="errorlist' in body or "errornote" in body, f"{where}: 200 without an error"
            assert after == before, f"{where}: refused, yet stored {after!r}"
        else:  # saved: exactly what was typed, shown escaped
            assert "\x00" not in value, f"{where}: a NUL byte was accepted"
            if isinstance(after, str):
                assert after == expected_stored(form_name, name, value), f"{where}: stored {after!r}"
            elif isinstance(after, Decimal):
                # Read as the company's locale reads it: "1,5" is 1.5 (core.numbers, docs/DATA_ENTRY.md).
                assert after == parse_number(value, "en-ZA"), f"{where}: stored {after!r}"
            with acme:
                page = client.get(form.shown_at(world, n))
            assert page.status_code == 200, where
            assert_escaped(page.content.decode(), where + " (shown)")
            if value in DANGEROUS and name in form.shown:
                assert escape(value) in page.content.decode(), f"{where}: not shown escaped"


# --- Actions that redirect with a message ------------------------------------------------------------------


@pytest.mark.parametrize("name", ["to_status", "reason", "version"])
def test_hostile_transition_input_moves_nothing(acme, world, name):
    """A move the batch cannot make (grading to received) with one hostile field: refused cleanly, every time."""
    client = acme.client("Clerk")
    for label, value in {**TEXT, **NUMBERS}.items():
        data = {"to_status": "received", "reason": "", "version": str(world.batch.version), name: value}

        response = client.post(f"/batches/{world.batch.pk}/transition/", data)

        where = f"transition.{name} = {label}"
        assert response.status_code == 302, f"{where}: {response.status_code}"
        with acme:
            batch = Batch.objects.get(pk=world.batch.pk)
        assert (batch.status, batch.version) == ("grading", world.batch.version), where
        page = client.get(response["Location"])
        assert page.status_code == 200, where
        assert_escaped(page.content.decode(), where)


@pytest.mark.parametrize("label", ["rtl", "emoji", "combining", "script", "attribute", "sql", "nul", "huge"])
def test_a_hostile_rejection_reason_is_stored_exactly_or_refused(acme, world, label):
    value = TEXT[label]
    client = acme.client("Clerk")

    response = client.post(f"/batches/{world.batch.pk}/transition/",
                           {"to_status": "rejected", "reason": value, "version": str(world.batch.version)})

    assert response.status_code == 302
    with acme:
        batch = Batch.objects.get(pk=world.batch.pk)
    if label in ("nul", "huge"):  # a NUL, or more than the form's 2000 characters: refused
        assert batch.status == "grading"
    else:
        assert batch.status == "rejected"
        assert batch.rejection_reason == value.strip()
    page = client.get(f"/batches/{world.batch.pk}/")
    assert_escaped(page.content.decode(), label)
    if label == "script":
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.content.decode()


@pytest.mark.parametrize("name", ["class1_kg", "class2_kg", "class3_kg", "waste_kg", "version"])
def test_hostile_packout_input_is_refused(acme, world, name):
    client = acme.client("Clerk")
    for label, value in NUMBERS.items():
        data = {"class1_kg": "3000", "class2_kg": "400", "class3_kg": "50", "waste_kg": "50",
                "version": str(world.batch.version), name: value}

        response = client.post(f"/batches/{world.batch.pk}/packout/", data)

        where = f"packout.{name} = {label}"
        assert response.status_code == 200, f"{where}: {response.status_code}"
        assert_escaped(response.content.decode(), where)
        with acme:
            assert Batch.objects.get(pk=world.batch.pk).class1_kg is None, where


@pytest.mark.parametrize(
    "path", ["/growers/search/?q={}", "/growers/search/?grower={}", "/growers/?q={}", "/batches/?q={}",
             "/batches/?variety={}", "/batches/export.csv?q={}", "/payments/?q={}", "/reconciliation/?grower={}",
             "/reconciliation/?from={}", "/batches/?page={}", "/batches/?ordering={}", "/packhouses/?q={}"],
)
def test_hostile_query_strings_never_fail(acme, world, path):
    from urllib.parse import quote

    client = acme.client("Manager")
    for label, value in {**TEXT, **NUMBERS}.items():
        response = client.get(path.format(quote(value[:5000])))

        # A NUL byte is a 400 before any view (core.middleware); the reconciliation page answers its form
        # errors with the API's 400.
        if "\x00" in value:
            expected = (400,)
        elif path.startswith("/reconciliation/"):
            expected = (200, 400)
        else:
            expected = (200, 302)
        assert response.status_code in expected, f"{path} {label}: {response.status_code}"
        if not response.streaming:
            assert_escaped(response.content.decode(), f"{path} {label}")


# --- The API's JSON bodies ---------------------------------------------------------------------------------

def api_body(path, w, i):
    """A valid body for `path`; `i` keeps codes, references and price periods unique."""
    return {
        "/api/growers/": {"code": f"HXAPI{i}", "name": "Api Farm"},
        "/api/packhouses/": {"code": f"HXA{i}", "name": "Api House"},
        "/api/batches/": {"grower": w.grower.pk, "packhouse": w.packhouse.pk, "fruit_type": "apple",
                          "variety": "Gala", "harvest_date": today(), "bin_count": 8, "gross_weight_kg": "3200.00",
                          "tare_weight_kg": "400.00"},
        "/api/payments/": {"grower": w.grower.pk, "payment_type": "advance", "amount": "100.00",
                           "reference": f"EFT-API-{i}", "paid_date": today()},
        "/api/prices/": {"fruit_type": "pear", "grade": "class1", "valid_from": f"{1900 + i}-01-01",
                         "valid_to": f"{1900 + i}-12-31", "price_per_kg": "4.1000"},
    }[path]


API_PATHS = ["/api/growers/", "/api/packhouses/", "/api/batches/", "/api/payments/", "/api/prices/"]
JSON_VALUES = {
    "nul": "a\u0000b", "huge-string": "x" * 100_000, "huge-int": 10**30, "negative-huge-int": -(10**30),
    "huge-float": 1e308, "absurd": 123456789012345.123, "nan-string": "NaN", "infinity-string": "Infinity",
    "exponent-string": "1e309", "list": [1, 2], "object": {"a": 1}, "bool": True, "script": SCRIPT,
    "rtl": TEXT["rtl"], "emoji": TEXT["emoji"],
}


@pytest.mark.parametrize("path", API_PATHS)
def test_hostile_json_values_are_400_or_stored_exactly(acme, world, path):
    client = acme.api_client("Manager")
    i = 0
    for name in api_body(path, world, 0):
        for label, value in JSON_VALUES.items():
            i += 1
            response = client.post(path, json.dumps({**api_body(path, world, i), name: value}),
                                   content_type="application/json")

            where = f"POST {path} {name} = {label}"
            assert response.status_code in (201, 400), f"{where}: {response.status_code} {response.content[:200]}"
            body = response.json()
            if response.status_code == 400:
                assert {"detail", "code"} <= set(body), where
                continue
            assert label != "nul", f"{where}: a NUL byte was accepted"
            if isinstance(value, str):  # strings come back exactly; DRF's CharField turns numbers into text
                assert body[name] == value, f"{where}: {body[name]!r}"


@pytest.mark.parametrize("label", ["nul", "invalid-json", "infinity-literal", "nan-literal", "deep"])
def test_malformed_json_is_a_400(acme, world, label):
    raw = {
        "nul": '{"code": "HX\u0000", "name": "x"}',
        "invalid-json": '{"code": ',
        "infinity-literal": '{"code": "HXINF", "name": "x", "region": Infinity}',
        "nan-literal": '{"code": "HXNAN", "name": NaN}',
        "deep": "[" * 10_000 + "]" * 10_000,
    }[label]

    response = acme.api_client("Manager").post("/api/growers/", raw.encode(), content_type="application/json")

    assert response.status_code == 400, response.content[:200]
    assert response.json()["code"] in ("parse_error", "invalid")
    with acme:
        assert not Grower.objects.filter(code__startswith="HX").exists()
