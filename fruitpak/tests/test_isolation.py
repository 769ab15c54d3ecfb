"""Tenant isolation, for every URL the company hosts serve.

The URL patterns are read from the resolver (fruitpak.urls, with the API
router and the admin), so a new endpoint is covered by the tests below or
fails test_every_url_pattern_is_covered until it is.

acme holds the data, with names that appear nowhere else (MARKERS); globex
asks for it: on globex's host, with globex's session or token and acme's
object ids. The answer is a refusal (401, 403, 404, 405, or the admin's
redirect for a missing object), and no acme string appears in any body.
test_api_access.py and test_pages_access.py already prove the per-role and
anonymous cases, and the other company's token and ids for the API's main
endpoints; this file makes that complete and adds the session, cache, raw
SQL and suspension cases.
"""

import datetime as dt
import re
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from accounts import services as account_services
from accounts.models import User
from batches import qc
from batches import services as batch_services
from batches.models import Batch, DefectType, QCInspection
from batches.tests.factories import BatchFactory, packed_batch
from core.tenancy import company_today
from dispatch import services as dispatch_services
from dispatch.models import Load
from growers import services as grower_services
from growers.models import Block, Farm, Grower, SprayClearance
from growers.tests.factories import GrowerFactory
from onboarding import services as onboarding_services
from onboarding.models import ImportRun
from packhouses.models import Packhouse
from packhouses.tests.factories import PackhouseFactory
from pallets import services as pallet_services
from pallets.models import Pallet, Room
from payments import services as payment_services
from payments.models import GrowerPayment, PaymentRun, PriceAgreement, RemittanceAdvice
from pools import services as pool_services
from pools.models import ChargeRule, Pool, PoolIncome
from pools.tests.helpers import packed
from reconciliation.services import refresh_intake_view
from seasons import services as season_services
from seasons.models import Season

pytestmark = pytest.mark.django_db

MANAGER = "Manager"
# Strings of acme's data that no globex response may contain.
MARKERS = ["Quokka Ridge", "QK0001", "Wombat Valley", "WMB-", "Numbat Red", "EFT-QUOLL-777", "dingo deal",
           "acme.test", "Acme Fruit", "QUOKKA-"]
# Patterns that serve no company data, whoever asks: the login forms, the API's description, the admin's scripts.
NO_COMPANY_DATA = {
    "login/": "the login form",
    "logout/": "ends the caller's own session",
    "api/auth/login": "takes credentials, returns tokens of this host's company only",
    "api/auth/refresh": "takes a refresh token; a foreign one is refused (test_foreign_refresh_token_is_refused)",
    "api/auth/logout": "revokes the caller's own token's session",
    "api/schema/": "the OpenAPI description, the same for every company",
    "api/docs/": "Swagger UI around the schema",
    "api/^(?P<rest>.*)$": "the JSON 404 of any other path under /api/; it reads nothing",
    "admin/login/": "the admin's login form",
    "admin/logout/": "ends the caller's own session",
    "admin/jsi18n/": "the admin's translations",
    "imports/template/<str:kind>.csv": "an empty CSV with the columns of a kind of import, the same for every company",
}


# --- The URL patterns -----------------------------------------------------------------------------------


def walk(patterns, prefix=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from walk(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern), pattern.callback


PATTERNS = dict(walk(get_resolver("fruitpak.urls").url_patterns))

# Which acme object a route's id stands for, by the route's start.
OBJECT_OF_ROUTE = [
    ("api/^defect-types/", "defect_type"), ("api/^qc-inspections/", "inspection"), ("api/batches/", "batch"),
    ("batches/qc/defect-types/", "defect_type"),
    ("api/^farms/", "farm"), ("api/^blocks/", "block"), ("api/^spray-clearances/", "clearance"),
    ("growers/farms/", "farm"), ("growers/blocks/", "block"), ("imports/", "import_run"),
    ("api/^growers/", "grower"), ("api/^packhouses/", "packhouse"), ("api/^batches/", "batch"),
    ("api/^payments/", "payment"), ("api/^prices/", "price"), ("batches/", "batch"), ("growers/", "grower"),
    ("packhouses/", "packhouse"), ("reconciliation/growers/", "grower"), ("admin/accounts/user/", "user"),
    ("api/^seasons/", "season"), ("seasons/", "season"),
    ("api/^pallets/", "pallet"), ("api/^rooms/", "room"), ("pallets/rooms/", "room"), ("pallets/", "pallet"),
    ("api/^loads/", "load"), ("loads/", "load"),
    ("api/^payment-runs/", "run"), ("api/^remittances/", "remittance"), ("payments/runs/prepare/", "pool"),
    ("payments/runs/", "run"), ("payments/remittances/", "remittance"), ("payments/", "payment"),
    ("api/^pools/", "pool"), ("api/^pool-income/", "pool_income"), ("api/^charge-rules/", "charge_rule"),
    ("pools/", "pool"),
]
OBJECT_OF_MODEL = {Grower: "grower", Packhouse: "packhouse", Batch: "batch", GrowerPayment: "payment",
                   PriceAgreement: "price", Group: "group", DefectType: "defect_type", QCInspection: "inspection",
                   Season: "season", Pallet: "pallet", Room: "room", Load: "load", Farm: "farm", Block: "block",
                   SprayClearance: "clearance", ImportRun: "import_run", Pool: "pool", PoolIncome: "pool_income",
                   ChargeRule: "charge_rule", PaymentRun: "run", RemittanceAdvice: "remittance"}


def model_of(callback):
    model_admin = getattr(callback, "model_admin", None)
    return model_admin.model if model_admin else None


def methods(route, callback):
    if hasattr(callback, "actions"):  # a router's ViewSet route
        return sorted(callback.actions)
    view_class = getattr(callback, "cls", None) or getattr(callback, "view_class", None)
    if view_class is not None and route.startswith("api/"):
        return sorted(m for m in ("get", "post", "put", "patch", "delete") if hasattr(view_class, m))
    return ["get", "post"]  # Django views: both asked; the view refuses what it does not serve


def concrete(route, callback, world):
    """The route as a path with acme's ids, and whether it names one of acme's objects."""
    path = route.replace("^", "").replace("$", "")
    if "(?P<url>" in path:  # the admin's catch-all
        return "/admin/no-such-page/", False
    if "(?P<app_label>" in path:
        return "/admin/batches/", False
    if "<path:content_type_id>" in path:  # admin "view on site"
        return f"/admin/r/{world.batch_content_type}/{world.batch}/", True
    key = next((key for start, key in OBJECT_OF_ROUTE if route.startswith(start)), None)
    model = model_of(callback)
    if model is not None:
        key = OBJECT_OF_MODEL.get(model, key)
    names = re.findall(r"<(?:\w+:)?(\w+)>|\(\?P<(\w+)>[^)]*\)", path)
    if not names:
        return "/" + path, False
    if model is not None and key is None:
        # An admin model without acme rows (e.g. axes' logs, kept in public): any id will do.
        value = 1
    else:
        value = getattr(world, key)
    path = re.sub(r"<(?:\w+:)?\w+>|\(\?P<\w+>[^)]*\)", str(value), path)
    return "/" + path, True


@pytest.fixture
def world(acme, globex):
    """acme's objects, with names no other company has, and its intake view refreshed."""
    with acme:
        grower = GrowerFactory(code="QK0001", name="Quokka Ridge Orchards")
        packhouse = PackhouseFactory(code="WMB", name="Wombat Valley Packhouse")
        batch = packed_batch(grower=grower, packhouse=packhouse, variety="Numbat Red")
        received = BatchFactory(grower=grower, packhouse=packhouse, variety="Numbat Red")
        defect_type = qc.create_defect_type(code="QK-ROT", name="Quokka Ridge rot", fruit_type="apple")
        inspection = batch_services.record_inspection(received, sample_size=50, result="pass",
                                                      defects={defect_type: 3}, notes="dingo deal")
        payment = payment_services.record_payment(
            grower=grower, payment_type="advance", amount=Decimal("1000.00"), reference="EFT-QUOLL-777",
            paid_date=company_today(), notes="dingo deal",
        )
        price = payment_services.create_price_agreement(
            fruit_type="apple", grade="class1", valid_from=company_today().replace(month=1, day=1),
            price_per_kg=Decimal("5.5"), notes="dingo deal",
        )
        acme.company.gs1_company_prefix = "6001234"
        acme.company.save(update_fields=["gs1_company_prefix"])
        pallet = pallet_services.build_pallet(packhouse)
        pallet_services.add_line(pallet, batch=batch, grade="class1", cartons=10, kg=Decimal("100"))
        room = pallet_services.create_room(packhouse=packhouse, code="QK1", name="Quokka Ridge cold room",
                                           capacity=10)
        load = dispatch_services.create_load(packhouse=packhouse, consignee="Quokka Ridge importers")
        block = Batch.objects.get(pk=batch.pk).block
        clearance = grower_services.record_clearance(
            block=block, season=season_services.current_season(), cleared_on=company_today(),
            lab_reference="QUOKKA-LAB-1",
        )
        import_run = onboarding_services.upload(
            kind="growers", filename="quokka.csv", content=b"code,name\nQK0002,Quokka Ridge Two\n", by=None,
        )
        pool = pool_services.create_pool(season=season_services.current_season(), code="QK-POOL",
                                         name="Quokka Ridge pool", fruit_type="apple")
        pool_income = pool_services.record_income(pool, grade="class1", amount=Decimal("100.00"),
                                                  received_on=company_today(), reference="EFT-QUOLL-777")
        charge_rule = pool_services.add_charge_rule(pool, name="Quokka Ridge levy", kind="levy",
                                                    basis="per_kg_received", rate=Decimal("0.01"))
        run, remittance = posted_run(grower, packhouse)
        refresh_intake_view()
        # Users and groups are numbered alike in every schema: acme's clerk may share globex's clerk's id.
        # These get ids that globex does not have, so a 200 could only be acme's row.
        user, group = acme_only(User, globex, lambda n: account_services.create_user(
            email=f"quokka{n}@acme.test", password="correct-horse-battery", role="Clerk",
        )), acme_only(Group, globex, lambda n: Group.objects.create(name=f"Quokka Ridge pickers {n}"))
        season = acme_only(Season, globex, lambda n: season_services.create_season(
            code=f"QUOKKA-{n}", name=f"Quokka Ridge season {n}", start_date=dt.date(2040 + n, 1, 1),
            end_date=dt.date(2040 + n, 12, 31),
        ))
        return SimpleNamespace(
            grower=grower.pk, packhouse=packhouse.pk, batch=batch.pk, payment=payment.pk, price=price.pk,
            user=user.pk, group=group.pk, defect_type=defect_type.pk, inspection=inspection.pk, season=season.pk,
            pallet=pallet.pk, room=room.pk, load=load.pk, farm=block.farm_id, block=block.pk,
            clearance=clearance.pk, import_run=import_run.pk, pool=pool.pk, pool_income=pool_income.pk,
            charge_rule=charge_rule.pk, run=run.pk, remittance=remittance.pk,
            batch_content_type=ContentType.objects.get_for_model(Batch).pk, batch_version=batch.version,
        )


def posted_run(grower, packhouse):
    """A pear pool of the grower's, closed, its run approved and posted: a run and a remittance advice."""
    from accounts.models import User

    pool = pool_services.create_pool(season=season_services.current_season(), code="QK-PEARS",
                                     name="Quokka Ridge pears", fruit_type="pear", variety="Packham")
    packed(grower, packhouse, net=500, class1=400, class2=0, fruit_type="pear", variety="Packham")
    pool_services.record_income(pool, grade="class1", amount=Decimal("800.00"), received_on=company_today(),
                                reference="EFT-QUOLL-PEARS")
    pool = pool_services.close_pool(pool)
    finance, manager = (User.objects.get(email=f"{role.lower()}@acme.test") for role in ("Finance", "Manager"))
    run = payment_services.prepare_run(pool, by=finance)
    run = payment_services.approve_run(run, by=manager)
    run, _ = payment_services.post_run(run, by=finance)
    return run, run.remittances.get()


def acme_only(model, globex, make):
    for n in range(20):
        row = make(n)
        with globex:
            taken = model.objects.filter(pk=row.pk).exists()
        if not taken:
            return row
    raise AssertionError(f"no {model.__name__} id free in globex")


def assert_no_acme_data(response, where):
    body = b"".join(response.streaming_content) if response.streaming else response.content
    text = body.decode(errors="replace")
    leaked = [marker for marker in MARKERS if marker in text]
    assert not leaked, f"{where}: {response.status_code} leaks {leaked}"


# Bodies that pass validation, so that the request reaches the object lookup.
API_BODIES = {
    "transition/": {"to_status": "grading"},
    "packout/": {"class1_kg": "1", "class2_kg": "0", "class3_kg": "0", "waste_kg": "0"},
    "reverse/": {"reason": "Wrong grower"},
}


def request(client, method, path, **extra):
    if isinstance(client, APIClient):
        body = next((body for end, body in API_BODIES.items() if path.endswith(end)), {})
        return getattr(client, method)(path, body, format="json", **extra)
    return getattr(client, method)(path, {}, **extra)


def follow(client, response, limit=3):
    """The admin redirects twice for a missing object (<id>/ to <id>/change/ to the index)."""
    while response.status_code == 302 and limit:
        response, limit = client.get(response["Location"]), limit - 1
    return response


# --- Completeness ----------------------------------------------------------------------------------------


def test_every_url_pattern_is_covered(world):
    """Each pattern turns into a concrete path here, or is listed in NO_COMPANY_DATA with a reason."""
    assert len(PATTERNS) > 50  # the resolver walk found the admin, the API router and the pages
    for route, callback in PATTERNS.items():
        if route in NO_COMPANY_DATA:
            continue
        path, _ = concrete(route, callback, world)
        assert "<" not in path and "(?P" not in path, f"{route} was not filled in: teach concrete() about it"
    assert set(NO_COMPANY_DATA) <= set(PATTERNS), "NO_COMPANY_DATA names a route that no longer exists"


COVERED = sorted(route for route in PATTERNS if route not in NO_COMPANY_DATA)


# --- The other company's session or token, with acme's ids --------------------------------------------


@pytest.mark.parametrize("route", COVERED)
def test_globex_gets_nothing_of_acme(acme, globex, world, route):
    """On globex's host, as globex's Manager (session for pages and the admin, token for the API)."""
    callback = PATTERNS[route]
    path, names_an_object = concrete(route, callback, world)
    for method in methods(route, callback):
        client = globex.api_client(MANAGER) if route.startswith("api/") else globex.client(MANAGER)
        response = request(client, method, path)

        where = f"{method.upper()} {path}"
        assert response.status_code < 500, where
        assert_no_acme_data(response, where)
        if names_an_object:
            assert response.status_code in (302, 403, 404, 405), f"{where}: {response.status_code}"
            if response.status_code == 302:  # the admin's "doesn't exist" redirect ends on its index
                landed = follow(client, response)
                assert_no_acme_data(landed, where + " (redirected)")
                assert landed.wsgi_request.path == "/admin/" or landed.status_code in (403, 404), where
    with acme:
        batch = Batch.objects.get(pk=world.batch)
        assert (batch.status, batch.version) == ("packed", world.batch_version)
        assert GrowerPayment.objects.filter(reference="EFT-QUOLL-777").count() == 1
        assert Grower.objects.get(pk=world.grower).name == "Quokka Ridge Orchards"


@pytest.mark.parametrize("route", [r for r in COVERED if not r.startswith("api/")])
def test_acmes_session_cookie_on_globexs_host_gets_nothing(acme, globex, world, route):
    callback = PATTERNS[route]
    path, _ = concrete(route, callback, world)
    acme_session = acme.client(MANAGER)
    for method in methods(route, callback):
        client = Client(HTTP_HOST=globex.host)
        client.cookies = acme_session.cookies
        response = request(client, method, path)

        where = f"{method.upper()} {path}"
        assert_no_acme_data(response, where)
        # Anonymous on globex: sent to a login page, refused, or not found; never a page of data.
        assert response.status_code in (302, 403, 404, 405), f"{where}: {response.status_code}"
        if response.status_code == 302:
            assert "login" in response["Location"], where


@pytest.mark.parametrize("route", [r for r in COVERED if r.startswith("api/")])
def test_acmes_token_on_globexs_host_is_refused(acme, globex, world, route):
    callback = PATTERNS[route]
    path, _ = concrete(route, callback, world)
    token = acme.tokens(MANAGER)["access_token"]
    for method in methods(route, callback):
        client = APIClient(HTTP_HOST=globex.host)
        client.credentials(HTTP_AUTHORIZATION="Bearer " + token)
        response = request(client, method, path)

        assert response.status_code == 401, f"{method.upper()} {path}: {response.status_code}"
        if method != "head":
            assert response.json()["code"] == "wrong_company"


def test_foreign_refresh_token_is_refused(acme, globex):
    refresh_token = acme.tokens(MANAGER)["refresh_token"]

    response = APIClient(HTTP_HOST=globex.host).post("/api/auth/refresh", {"refresh_token": refresh_token},
                                                     format="json")

    assert response.status_code == 401
    assert "access_token" not in response.json()


# --- Tokens: a matching user id is not enough ---------------------------------------------------------------


def test_a_globex_token_whose_user_id_matches_an_acme_user_fails_on_acme(acme, globex, world):
    globex_manager, acme_manager = globex.user(MANAGER), acme.user(MANAGER)
    assert globex_manager.pk == acme_manager.pk  # the premise: both schemas number their users alike
    token = globex.tokens(MANAGER)["access_token"]
    client = APIClient(HTTP_HOST=acme.host)
    client.credentials(HTTP_AUTHORIZATION="Bearer " + token)

    response = client.get("/api/growers/")

    assert response.status_code == 401
    assert_no_acme_data(response, "globex token on acme")


def test_a_token_relabelled_to_acme_still_fails_without_an_acme_session(acme, globex, world):
    """Even signed with the real key and claiming acme, a token whose session lives in globex gets nothing."""
    globex_manager = globex.user(MANAGER)
    globex_access = RefreshToken(globex.tokens(MANAGER)["refresh_token"]).access_token
    assert globex_manager.pk == acme.user(MANAGER).pk
    globex_access["tenant"] = acme.schema  # re-signed by str() below: only a key holder could do this
    client = APIClient(HTTP_HOST=acme.host)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {globex_access}")

    response = client.get("/api/growers/")

    assert response.status_code == 401
    assert_no_acme_data(response, "relabelled token")


# --- Raw-SQL reports and exports ------------------------------------------------------------------------------

REPORTS = ["/", "/reconciliation/", "/api/reconciliation/", "/api/intake/daily/", "/batches/export.csv",
           "/batches/", "/growers/", "/payments/", "/api/batches/", "/api/payments/", "/api/prices/",
           "/batches/qc/report/", "/api/qc-report/", "/batches/qc/", "/api/qc-inspections/",
           "/batches/qc/defect-types/", "/api/defect-types/", "/pools/", "/api/pools/", "/api/pool-income/",
           "/api/charge-rules/"]


@pytest.mark.parametrize("path", REPORTS)
def test_reports_see_only_the_current_schema(acme, globex, world, path):
    client_of = (lambda t: t.api_client(MANAGER)) if path.startswith("/api/") else (lambda t: t.client(MANAGER))

    on_acme = client_of(acme).get(path)
    # Read now: a streamed body is made as it is read, and must be read before the next request switches schema.
    acme_body = b"".join(on_acme.streaming_content) if on_acme.streaming else on_acme.content
    on_globex = client_of(globex).get(path)

    # The report could leak: acme's own host shows the data.
    assert any(marker.encode() in acme_body for marker in MARKERS[:7]), f"{path} shows nothing on acme"
    assert on_globex.status_code == 200
    assert_no_acme_data(on_globex, f"globex {path}")


def test_acmes_grower_statement_is_404_on_globex(globex, world):
    response = globex.client(MANAGER).get(f"/reconciliation/growers/{world.grower}/statement/")

    assert response.status_code == 404
    assert_no_acme_data(response, "statement")


# --- The cache --------------------------------------------------------------------------------------------------

CACHEABLE = [route for route in COVERED
             if "get" in methods(route, PATTERNS[route]) and not re.search(r"<|\(\?P", route)]


@pytest.mark.parametrize("route", CACHEABLE)
def test_a_page_cached_on_acme_is_never_served_on_globex(acme, globex, world, route):
    path = "/" + route.replace("^", "").replace("$", "")
    client_of = (lambda t: t.api_client(MANAGER)) if route.startswith("api/") else (lambda t: t.client(MANAGER))
    acme_client = client_of(acme)
    first, second = acme_client.get(path), acme_client.get(path)
    assert first.status_code == second.status_code

    response = client_of(globex).get(path)

    assert_no_acme_data(response, f"globex {path} after acme's twice")


# --- A suspended company ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/api/growers/", "/api/batches/", "/batches/", "/", "/login/", "/admin/"])
def test_a_suspended_companys_hosts_answer_404_and_its_credentials_stop(
    acme, world, path, django_capture_on_commit_callbacks,
):
    token = acme.tokens(MANAGER)["access_token"]
    session = acme.client(MANAGER)
    api = APIClient(HTTP_HOST=acme.host)
    api.credentials(HTTP_AUTHORIZATION="Bearer " + token)
    client = api if path.startswith("/api/") else session
    assert client.get(path).status_code in (200, 302)  # works, and is cached if anything caches it

    with django_capture_on_commit_callbacks(execute=True):
        acme.company.is_active = False
        acme.company.save()
    response = client.get(path)

    assert response.status_code == 404
    assert "No company here" in response.content.decode()
    assert_no_acme_data(response, f"suspended {path}")
