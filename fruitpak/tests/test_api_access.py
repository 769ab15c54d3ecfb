"""Every API endpoint, for every role, anonymous, the other company's token and the other company's ids."""

import datetime as dt
from decimal import Decimal
from types import SimpleNamespace

import pytest
from rest_framework.test import APIClient

from accounts.services import ensure_user
from batches.tests.factories import BatchFactory
from core.tenancy import company_today
from payments import services as payment_services
from payments.tests.runs_helpers import approved_run, closed_pool
from pools import services as pool_services
from seasons import services as season_services
from seasons.models import Season

pytestmark = pytest.mark.django_db

CLERK, FINANCE, MANAGER = "Clerk", "Finance", "Manager"
ALL_READ = {CLERK: 200, FINANCE: 200, MANAGER: 200}


def intake_body(w):
    return {"grower": w.grower.pk, "packhouse": w.packhouse.pk, "fruit_type": "apple", "variety": "Gala",
            "harvest_date": str(company_today()), "bin_count": 8, "gross_weight_kg": "3200.00",
            "tare_weight_kg": "400.00"}


# name: (method, path, body, expected status per role)
ENDPOINTS = {
    "growers-list": ("get", "/api/growers/", None, ALL_READ),
    "growers-detail": ("get", "/api/growers/{grower}/", None, ALL_READ),
    "growers-create": ("post", "/api/growers/", lambda w: {"code": "GNEW1", "name": "New Farm"},
                       {CLERK: 403, FINANCE: 403, MANAGER: 201}),
    "growers-update": ("patch", "/api/growers/{grower}/", lambda w: {"region": "Elgin"},
                       {CLERK: 403, FINANCE: 403, MANAGER: 200}),
    "packhouses-list": ("get", "/api/packhouses/", None, ALL_READ),
    "packhouses-detail": ("get", "/api/packhouses/{packhouse}/", None, ALL_READ),
    "packhouses-create": ("post", "/api/packhouses/", lambda w: {"code": "PH9", "name": "North"},
                          {CLERK: 403, FINANCE: 403, MANAGER: 201}),
    "packhouses-update": ("patch", "/api/packhouses/{packhouse}/", lambda w: {"region": "Grabouw"},
                          {CLERK: 403, FINANCE: 403, MANAGER: 200}),
    "batches-list": ("get", "/api/batches/", None, ALL_READ),
    "batches-detail": ("get", "/api/batches/{batch}/", None, ALL_READ),
    "batches-history": ("get", "/api/batches/{batch}/history/", None, ALL_READ),
    "batches-create": ("post", "/api/batches/", intake_body, {CLERK: 201, FINANCE: 403, MANAGER: 201}),
    "batches-update": ("patch", "/api/batches/{batch}/", lambda w: {"notes": "Bins re-counted"},
                       {CLERK: 200, FINANCE: 403, MANAGER: 200}),
    # Weights are a manager's correction, with a reason; a clerk's PATCH of them is a 403 (notes stay theirs).
    "batches-correct": ("patch", "/api/batches/{batch}/", lambda w: {"gross_weight_kg": "4100.00", "reason": "Re-read"},
                        {CLERK: 403, FINANCE: 403, MANAGER: 200}),
    "batches-transition": ("post", "/api/batches/{batch}/transition/", lambda w: {"to_status": "grading"},
                           {CLERK: 200, FINANCE: 403, MANAGER: 200}),
    # A received batch takes no pack-out yet: an allowed role gets past the permission to the rule (400).
    "batches-packout": ("post", "/api/batches/{batch}/packout/",
                        lambda w: {"class1_kg": "1", "class2_kg": "0", "class3_kg": "0", "waste_kg": "0"},
                        {CLERK: 400, FINANCE: 403, MANAGER: 400}),
    "payments-list": ("get", "/api/payments/", None, {CLERK: 403, FINANCE: 200, MANAGER: 200}),
    "payments-detail": ("get", "/api/payments/{payment}/", None, {CLERK: 403, FINANCE: 200, MANAGER: 200}),
    "payments-create": ("post", "/api/payments/",
                        lambda w: {"grower": w.grower.pk, "payment_type": "final", "amount": "2500.00",
                                   "reference": "EFT-NEW", "paid_date": str(company_today())},
                        {CLERK: 403, FINANCE: 201, MANAGER: 201}),
    "payments-reverse": ("post", "/api/payments/{payment}/reverse/", lambda w: {"reason": "Wrong grower"},
                         {CLERK: 403, FINANCE: 201, MANAGER: 201}),
    "prices-list": ("get", "/api/prices/", None, {CLERK: 403, FINANCE: 200, MANAGER: 200}),
    "prices-detail": ("get", "/api/prices/{price}/", None, {CLERK: 403, FINANCE: 200, MANAGER: 200}),
    "prices-create": ("post", "/api/prices/",
                      lambda w: {"fruit_type": "pear", "grade": "class1", "valid_from": "2026-01-01",
                                 "price_per_kg": "4.1000"},
                      {CLERK: 403, FINANCE: 201, MANAGER: 201}),
    "prices-update": ("patch", "/api/prices/{price}/", lambda w: {"notes": "agreed at the grower day"},
                      {CLERK: 403, FINANCE: 200, MANAGER: 200}),
    "pools-list": ("get", "/api/pools/", None, {CLERK: 403, FINANCE: 200, MANAGER: 200}),
    "pools-detail": ("get", "/api/pools/{pool}/", None, {CLERK: 403, FINANCE: 200, MANAGER: 200}),
    "pools-settlement": ("get", "/api/pools/{pool}/settlement/", None, {CLERK: 403, FINANCE: 200, MANAGER: 200}),
    "pools-create": ("post", "/api/pools/",
                     lambda w: {"season": w.season.pk, "code": "P-NEW", "name": "New", "fruit_type": "pear"},
                     {CLERK: 403, FINANCE: 201, MANAGER: 201}),
    "pools-close": ("post", "/api/pools/{pool}/close/", None, {CLERK: 403, FINANCE: 202, MANAGER: 202}),
    "pools-closing": ("get", "/api/pools/{pool}/closing/", None, {CLERK: 403, FINANCE: 404, MANAGER: 404}),
    "pool-income-list": ("get", "/api/pool-income/", None, {CLERK: 403, FINANCE: 200, MANAGER: 200}),
    "pool-income-detail": ("get", "/api/pool-income/{pool_income}/", None, {CLERK: 403, FINANCE: 200, MANAGER: 200}),
    "pool-income-create": ("post", "/api/pool-income/",
                           lambda w: {"pool": w.pool.pk, "grade": "class1", "amount": "10.00",
                                      "received_on": str(company_today()), "reference": "MR-NEW"},
                           {CLERK: 403, FINANCE: 201, MANAGER: 201}),
    "charge-rules-list": ("get", "/api/charge-rules/", None, {CLERK: 403, FINANCE: 200, MANAGER: 200}),
    "charge-rules-detail": ("get", "/api/charge-rules/{charge_rule}/", None, {CLERK: 403, FINANCE: 200, MANAGER: 200}),
    "charge-rules-create": ("post", "/api/charge-rules/",
                            lambda w: {"pool": w.pool.pk, "name": "Levy", "kind": "levy", "basis": "per_carton",
                                       "rate": "0.5"},
                            {CLERK: 403, FINANCE: 201, MANAGER: 201}),
    "charge-rules-delete": ("delete", "/api/charge-rules/{charge_rule}/", None,
                            {CLERK: 403, FINANCE: 200, MANAGER: 200}),
    # A draft run of Finance's colleague (world): its preparer is neither test user, so both may approve it.
    "payment-runs-list": ("get", "/api/payment-runs/", None, {CLERK: 403, FINANCE: 200, MANAGER: 200}),
    "payment-runs-detail": ("get", "/api/payment-runs/{run}/", None, {CLERK: 403, FINANCE: 200, MANAGER: 200}),
    "payment-runs-create": ("post", "/api/payment-runs/", lambda w: {"pool": w.run.pool_id},
                            {CLERK: 403, FINANCE: 201, MANAGER: 201}),
    "payment-runs-prepare": ("post", "/api/payment-runs/{run}/prepare/", None,
                             {CLERK: 403, FINANCE: 200, MANAGER: 200}),
    "payment-runs-decide": ("post", "/api/payment-runs/{run}/decide/",
                            lambda w: {"line": w.negative_line.pk, "decision": "hold"},
                            {CLERK: 403, FINANCE: 200, MANAGER: 200}),
    "payment-runs-approve": ("post", "/api/payment-runs/{run}/approve/", None,
                             {CLERK: 403, FINANCE: 200, MANAGER: 200}),
    "payment-runs-cancel": ("post", "/api/payment-runs/{run}/cancel/", lambda w: {"reason": "Wrong pool"},
                            {CLERK: 403, FINANCE: 200, MANAGER: 200}),
    # Posting a posted run writes nothing and answers 200.
    "payment-runs-post": ("post", "/api/payment-runs/{posted_run}/post/", None,
                          {CLERK: 403, FINANCE: 200, MANAGER: 200}),
    "remittances-list": ("get", "/api/remittances/", None, {CLERK: 403, FINANCE: 200, MANAGER: 200}),
    "remittances-detail": ("get", "/api/remittances/{remittance}/", None, {CLERK: 403, FINANCE: 200, MANAGER: 200}),
    "remittances-pdf": ("get", "/api/remittances/{remittance}/pdf/", None, {CLERK: 403, FINANCE: 200, MANAGER: 200}),
    "remittances-csv": ("get", "/api/remittances/{remittance}/csv/", None, {CLERK: 403, FINANCE: 200, MANAGER: 200}),
    "seasons-list": ("get", "/api/seasons/", None, ALL_READ),
    "seasons-detail": ("get", "/api/seasons/{season}/", None, ALL_READ),
    "seasons-create": ("post", "/api/seasons/",
                       lambda w: {"code": "2041", "name": "Season 2041", "start_date": "2041-01-01",
                                  "end_date": "2041-12-31"},
                       {CLERK: 403, FINANCE: 403, MANAGER: 201}),
    "seasons-update": ("patch", "/api/seasons/{season}/", lambda w: {"name": "Renamed"},
                       {CLERK: 403, FINANCE: 403, MANAGER: 200}),
}
# Endpoints that answer a document, not JSON, when allowed (a refusal is JSON as everywhere).
DOCUMENTS = {"remittances-pdf": "application/pdf", "remittances-csv": "text/csv"}
OBJECTS = ("grower", "packhouse", "batch", "payment", "price", "season", "pool", "pool_income", "charge_rule", "run",
           "posted_run", "remittance")
DETAIL = [name for name, (_, path, _, _) in ENDPOINTS.items() if "{" in path]


def acme_only_season(acme, globex):
    """A season of acme's whose id globex does not have (ids are per schema), so a 200 on globex would be a leak."""
    for n in range(20):
        with acme:
            year = 2060 + n
            season = season_services.create_season(code=f"ACME-{n}", name="Acme only",
                                                   start_date=dt.date(year, 1, 1), end_date=dt.date(year, 12, 31))
        with globex:
            if not Season.objects.filter(pk=season.pk).exists():
                return season
    raise AssertionError("no season id free in globex")


@pytest.fixture
def world(acme, globex):
    season = acme_only_season(acme, globex)
    with acme:
        batch = BatchFactory()
        payment = payment_services.record_payment(
            grower=batch.grower, payment_type="advance", amount=Decimal("1000.00"), reference="EFT-1",
            paid_date=company_today(),
        )
        price = payment_services.create_price_agreement(
            fruit_type="apple", grade="class1", valid_from=dt.date(2026, 1, 1), price_per_kg=Decimal("5.5"),
        )
        pool = pool_services.create_pool(season=season_services.current_season(), code="P-API", name="API",
                                         fruit_type="apple")
        pool_income = pool_services.record_income(pool, grade="class1", amount=Decimal("100.00"),
                                                  received_on=company_today(), reference="MR-1")
        charge_rule = pool_services.add_charge_rule(pool, name="Levy", kind="levy", basis="per_kg_received",
                                                    rate=Decimal("0.01"))
        # Runs of two closed pools (pears: the open apple pool above takes the apples): a draft prepared by a
        # colleague of the Finance user, its negative line decided, and a posted run with its remittance advices.
        colleague = ensure_user(email="colleague@acme.test", password="Colleague-pass-2026!", role="Finance")
        run = payment_services.prepare_run(closed_pool(code="P-DRAFT", fruit_type="pear", variety="Bosc"),
                                           by=colleague)
        negative_line = run.lines.get(final__lt=0)
        payment_services.decide(run, negative_line, "carry_forward", by=colleague)
        posted_run = approved_run(closed_pool(code="P-POSTED", fruit_type="pear", variety="Forelle",
                                              growers=("GC003", "GD004")), colleague, acme.user(MANAGER))
        posted_run, _ = payment_services.post_run(posted_run, by=colleague)
        remittance = posted_run.remittances.order_by("number").first()
    return SimpleNamespace(batch=batch, grower=batch.grower, packhouse=batch.packhouse, payment=payment, price=price,
                           season=season, pool=pool, pool_income=pool_income, charge_rule=charge_rule, run=run,
                           negative_line=negative_line, posted_run=posted_run, remittance=remittance)


def call(client, name, w, host=None):
    method, path, body, _ = ENDPOINTS[name]
    url = path.format(**{key: getattr(w, key).pk for key in OBJECTS})
    extra = {"HTTP_HOST": host} if host else {}
    return getattr(client, method)(url, body(w) if body else None, format="json", **extra)


@pytest.mark.parametrize("role", [CLERK, FINANCE, MANAGER])
@pytest.mark.parametrize("name", ENDPOINTS)
def test_each_role_gets_what_it_may(acme, world, name, role):
    response = call(acme.api_client(role), name, world)

    assert response.status_code == ENDPOINTS[name][3][role], response.content
    document = DOCUMENTS.get(name) if response.status_code == 200 else None
    assert response["Content-Type"].split(";")[0] == (document or "application/json")


@pytest.mark.parametrize("name", ENDPOINTS)
def test_anonymous_gets_401(acme, world, name):
    response = call(APIClient(HTTP_HOST=acme.host), name, world)

    assert response.status_code == 401
    assert set(response.json()) == {"detail", "code"}


@pytest.mark.parametrize("name", ENDPOINTS)
def test_the_other_companys_token_gets_401(acme, globex, world, name):
    response = call(globex.api_client(MANAGER), name, world, host=acme.host)

    assert response.status_code == 401
    assert "another company" in response.json()["detail"]


@pytest.mark.parametrize("name", DETAIL)
def test_the_other_companys_ids_are_404_on_our_host(globex, world, name):
    response = call(globex.api_client(MANAGER), name, world)

    assert response.status_code == 404
    assert response.json() == {"detail": "Not found.", "code": "not_found"}


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("put", "/api/payments/{payment}/"), ("patch", "/api/payments/{payment}/"),
        ("delete", "/api/payments/{payment}/"), ("delete", "/api/batches/{batch}/"),
        ("put", "/api/batches/{batch}/"), ("delete", "/api/growers/{grower}/"),
        ("delete", "/api/packhouses/{packhouse}/"), ("delete", "/api/prices/{price}/"),
    ],
)
def test_payments_are_never_changed_and_nothing_is_deleted(acme, world, method, path):
    url = path.format(**{key: getattr(world, key).pk for key in ("grower", "packhouse", "batch", "payment", "price")})

    response = getattr(acme.api_client(MANAGER), method)(url, {"amount": "1.00"}, format="json")

    assert response.status_code == 405
    with acme:
        world.payment.refresh_from_db()
    assert world.payment.amount == Decimal("1000.00")


def test_unknown_api_path_is_json_404(acme):
    response = acme.api_client(MANAGER).get("/api/no-such-thing/")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
