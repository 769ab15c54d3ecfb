import pytest

from growers.models import Grower

from .factories import GrowerFactory

pytestmark = pytest.mark.django_db


def test_search_suggests_active_growers_by_code_or_name(acme):
    with acme:
        GrowerFactory(code="G0001", name="Oak Valley")
        GrowerFactory(code="G0002", name="Appelkloof")
        GrowerFactory(code="G0003", name="Oakdene", active=False)
    client = acme.client("Clerk")

    by_name = client.get("/growers/search/?q=oak").content.decode()
    by_code = client.get("/growers/search/?grower=g000").content.decode()
    empty = client.get("/growers/search/?q=").content.decode()

    assert 'value="G0001 · Oak Valley"' in by_name and "G0002" not in by_name and "G0003" not in by_name
    assert by_code.count("<option") == 2
    assert "<option" not in empty


def test_search_is_bounded_however_many_growers_match(acme):
    with acme:
        Grower.objects.bulk_create(Grower(code=f"G{n:04d}", name=f"Farm {n}") for n in range(1200))

    html = acme.client("Clerk").get("/growers/search/?q=G").content.decode()

    assert html.count("<option") == 20


def test_intake_form_uses_the_block_search_not_a_select_of_every_grower(acme):
    with acme:
        Grower.objects.bulk_create(Grower(code=f"G{n:04d}", name=f"Farm {n}") for n in range(1200))

    html = acme.client("Clerk").get("/batches/new/").content.decode()

    assert 'list="block-options"' in html and 'hx-get="/batches/blocks/"' in html
    assert "Farm 1199" not in html


def test_manager_adds_and_edits_a_grower(acme):
    client = acme.client("Manager")

    response = client.post("/growers/new/", {"code": "g0500", "name": "Rooiberg", "region": "Ceres", "active": "on"},
                           follow=True)
    assert "Grower G0500 added." in response.content.decode()
    with acme:
        grower = Grower.objects.get(code="G0500")

    response = client.post(f"/growers/{grower.pk}/edit/", {"code": "HIJACK", "name": "Rooiberg Farms",
                                                            "region": "Ceres"}, follow=True)

    with acme:
        grower.refresh_from_db()
    assert (grower.code, grower.name, grower.active) == ("G0500", "Rooiberg Farms", False)
    assert "Rooiberg Farms" in response.content.decode()


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"code": "G0001", "name": "Dup"}, "code"),
        ({"code": "bad code!", "name": "X"}, "code"),
        ({"code": "G0777", "name": "X", "ggn": "12"}, "ggn"),
        ({"code": "G0777", "name": "X", "email": "nope"}, "email"),
        ({"code": "G0777", "name": ""}, "name"),
    ],
)
def test_bad_grower_form_shows_errors_and_saves_nothing(acme, data, field):
    with acme:
        GrowerFactory(code="G0001")

    response = acme.client("Manager").post("/growers/new/", data)

    assert response.status_code == 200
    assert field in response.context["form"].errors
    with acme:
        assert Grower.objects.count() == 1


def test_grower_page_shows_batches_and_payments_by_permission(acme):
    from batches.tests.factories import BatchFactory

    with acme:
        batch = BatchFactory()

    clerk = acme.client("Clerk").get(f"/growers/{batch.grower_id}/").content.decode()
    finance = acme.client("Finance").get(f"/growers/{batch.grower_id}/").content.decode()

    assert batch.batch_code in clerk and "Recent payments" not in clerk
    assert "Recent payments" in finance


def test_grower_page_shows_the_balance_to_finance_only(acme):
    import datetime as dt
    from decimal import Decimal

    from batches.tests.factories import BatchFactory
    from core.tenancy import company_today
    from payments import services

    with acme:
        batch = BatchFactory()  # 3,500 kg net, not graded yet: valued ungraded
        services.create_price_agreement(fruit_type="apple", grade="ungraded", valid_from=dt.date(2020, 1, 1),
                                        price_per_kg=Decimal("2.00"))
        services.record_payment(grower=batch.grower, payment_type="advance", amount=Decimal("1000.00"),
                                reference="ADV-1", paid_date=company_today())

    finance = acme.client("Finance").get(f"/growers/{batch.grower_id}/").content.decode()
    clerk = acme.client("Clerk").get(f"/growers/{batch.grower_id}/").content.decode()

    assert 'data-testid="balance">6\u00a0000,00 ZAR owed to the grower<' in finance  # 3,500 x 2.00 - 1,000
    assert 'data-testid="balance"' not in clerk
