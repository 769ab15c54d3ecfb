"""A second press of Build pallet or Add line, or a retried API POST, makes nothing new (core/idempotency.py)."""

import re
from decimal import Decimal

import pytest

from packhouses.tests.factories import PackhouseFactory
from pallets import services
from pallets.models import Pallet, PalletHistory, PalletLine, SsccCounter

from .factories import pallet_with_batch

pytestmark = pytest.mark.django_db


def hidden_key(html):
    return re.search(r'name="idempotency_key" value="([0-9a-f]{32})"', html).group(1)


def test_the_build_form_pressed_twice_builds_one_pallet_and_burns_one_sscc(gs1):
    with gs1:
        packhouse = PackhouseFactory()
    client = gs1.client("Clerk")
    key = hidden_key(client.get("/pallets/build/").content.decode())
    form = {"packhouse": packhouse.pk, "idempotency_key": key}

    first = client.post("/pallets/build/", form)
    second = client.post("/pallets/build/", form, follow=True)

    assert first.status_code == 302 and second.redirect_chain[-1][0] == first["Location"]
    with gs1:
        pallet = Pallet.objects.get()
        assert SsccCounter.objects.get().last_serial == 1
        assert PalletHistory.objects.filter(pallet=pallet, event="built").count() == 1
    assert f"Pallet {pallet.sscc} was already built" in second.content.decode()
    # A fresh page has a fresh key: the next press is the next pallet.
    assert hidden_key(client.get("/pallets/build/").content.decode()) != key


def test_the_build_form_without_its_key_builds_nothing(gs1):
    with gs1:
        packhouse = PackhouseFactory()

    response = gs1.client("Clerk").post("/pallets/build/", {"packhouse": packhouse.pk})

    assert response.status_code == 200
    with gs1:
        assert not Pallet.objects.exists()


def test_a_retried_api_build_returns_the_first_pallet(gs1):
    with gs1:
        packhouse = PackhouseFactory()
    api = gs1.api_client("Clerk")

    first = api.post("/api/pallets/", {"packhouse": packhouse.pk}, format="json", HTTP_IDEMPOTENCY_KEY="erp-77")
    again = api.post("/api/pallets/", {"packhouse": packhouse.pk}, format="json", HTTP_IDEMPOTENCY_KEY="erp-77")

    assert first.status_code == 201 and again.status_code == 200, again.content
    assert again.json()["sscc"] == first.json()["sscc"] and again.json()["id"] == first.json()["id"]
    with gs1:
        assert Pallet.objects.count() == 1 and SsccCounter.objects.get().last_serial == 1


def test_the_same_api_key_for_another_packhouse_is_a_conflict(gs1):
    with gs1:
        one, other = PackhouseFactory(), PackhouseFactory()
    api = gs1.api_client("Clerk")
    assert api.post("/api/pallets/", {"packhouse": one.pk}, format="json",
                    HTTP_IDEMPOTENCY_KEY="k").status_code == 201

    reused = api.post("/api/pallets/", {"packhouse": other.pk}, format="json", HTTP_IDEMPOTENCY_KEY="k")

    assert reused.status_code == 409 and reused.json()["code"] == "idempotency_key_reused"
    with gs1:
        assert Pallet.objects.count() == 1


def test_api_builds_without_a_key_are_separate_pallets(gs1):
    with gs1:
        packhouse = PackhouseFactory()
    api = gs1.api_client("Clerk")

    ssccs = {api.post("/api/pallets/", {"packhouse": packhouse.pk}, format="json").json()["sscc"] for _ in range(2)}

    assert len(ssccs) == 2


def test_the_add_line_form_pressed_twice_adds_the_line_once(gs1):
    with gs1:
        pallet, batch = pallet_with_batch()
    client = gs1.client("Clerk")
    page = client.get(f"/pallets/{pallet.pk}/").content.decode()
    form = {"batch": batch.pk, "grade": "class1", "cartons": 5, "kg": "100", "version": pallet.version,
            "idempotency_key": hidden_key(page)}

    first = client.post(f"/pallets/{pallet.pk}/lines/", form)
    # The second press carries the version the first one bumped: it is a replay, not a stale edit.
    second = client.post(f"/pallets/{pallet.pk}/lines/", form, follow=True)

    assert first.status_code == 302 and second.status_code == 200
    html = second.content.decode()
    assert "were already added; nothing was added twice" in html and "changed since you loaded it" not in html
    with gs1:
        assert list(PalletLine.objects.filter(pallet=pallet).values_list("kg", flat=True)) == [Decimal("100.00")]
        assert PalletHistory.objects.filter(pallet=pallet, event="line_added").count() == 1
        assert Pallet.objects.get(pk=pallet.pk).version == pallet.version + 1
    # The page shown after the add carries a new key: the next line is a new line.
    assert hidden_key(html) != form["idempotency_key"]


def test_a_retried_api_line_returns_the_first_line(gs1):
    with gs1:
        pallet, batch = pallet_with_batch()
    api = gs1.api_client("Clerk")
    body = {"batch": batch.pk, "grade": "class2", "cartons": 4, "kg": "100.00"}

    first = api.post(f"/api/pallets/{pallet.pk}/lines/", body, format="json", HTTP_IDEMPOTENCY_KEY="line-1")
    again = api.post(f"/api/pallets/{pallet.pk}/lines/", body, format="json", HTTP_IDEMPOTENCY_KEY="line-1")
    other = api.post(f"/api/pallets/{pallet.pk}/lines/", {**body, "kg": "50.00"}, format="json",
                     HTTP_IDEMPOTENCY_KEY="line-1")

    assert first.status_code == 201 and again.status_code == 200, again.content
    assert again.json()["id"] == first.json()["id"]
    assert other.status_code == 409
    with gs1:
        assert PalletLine.objects.filter(pallet=pallet).count() == 1


def test_add_line_once_answers_a_replay_even_with_a_stale_version(in_acme):
    pallet, batch = pallet_with_batch()
    args = {"batch": batch, "grade": "class1", "cartons": 5, "kg": Decimal("100"), "expected_version": pallet.version}

    line, created = services.add_line_once("press", pallet, **args)
    again, created_again = services.add_line_once("press", pallet, **args)

    assert created and not created_again and again.pk == line.pk
    assert PalletLine.objects.count() == 1
