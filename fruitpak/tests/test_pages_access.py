"""Every HTML page: the roles that may, the roles that may not (403), anonymous (to login), the other company (404)."""

import datetime as dt
from types import SimpleNamespace

import pytest
from django.test import Client

from core.tenancy import company_today

pytestmark = pytest.mark.django_db

CLERK, FINANCE, MANAGER = "Clerk", "Finance", "Manager"
EVERYONE = {CLERK: 200, FINANCE: 200, MANAGER: 200}
NOT_CLERK = {CLERK: 403, FINANCE: 200, MANAGER: 200}
MANAGER_ONLY = {CLERK: 403, FINANCE: 403, MANAGER: 200}
NOT_FINANCE = {CLERK: 200, FINANCE: 403, MANAGER: 200}

# name: (path, expected GET status per role)
PAGES = {
    "home": ("/", EVERYONE),
    "batches": ("/batches/", EVERYONE),
    "batches-export": ("/batches/export.csv", EVERYONE),
    "intake": ("/batches/new/", NOT_FINANCE),
    "batch": ("/batches/{batch}/", EVERYONE),
    "docket": ("/batches/{batch}/docket/", EVERYONE),
    "bin-weights": ("/batches/bin-weights/", MANAGER_ONLY),
    "growers": ("/growers/", EVERYONE),
    "grower-search": ("/growers/search/?q=G", EVERYONE),
    "grower": ("/growers/{grower}/", EVERYONE),
    "grower-new": ("/growers/new/", MANAGER_ONLY),
    "grower-edit": ("/growers/{grower}/edit/", MANAGER_ONLY),
    "packhouses": ("/packhouses/", EVERYONE),
    "packhouse": ("/packhouses/{packhouse}/", EVERYONE),
    "packhouse-new": ("/packhouses/new/", MANAGER_ONLY),
    "packhouse-edit": ("/packhouses/{packhouse}/edit/", MANAGER_ONLY),
    "payments": ("/payments/", NOT_CLERK),
    "payment-new": ("/payments/new/", NOT_CLERK),
    "payment": ("/payments/{payment}/", NOT_CLERK),
    "batch-correct": ("/batches/{batch}/correct/", MANAGER_ONLY),
    "pools": ("/pools/", NOT_CLERK),
    "pool-new": ("/pools/new/", NOT_CLERK),
    "pool": ("/pools/{pool}/", NOT_CLERK),
    "pool-income": ("/pools/{pool}/income/", NOT_CLERK),
    "pool-charge": ("/pools/{pool}/charges/", NOT_CLERK),
    "pool-settlement": ("/pools/{pool}/settlement/", NOT_CLERK),
    "payment-runs": ("/payments/runs/", NOT_CLERK),
    "payment-run": ("/payments/runs/{run}/", NOT_CLERK),
    "remittances": ("/payments/remittances/", NOT_CLERK),
    "remittance": ("/payments/remittances/{remittance}/", NOT_CLERK),
    "remittance-pdf": ("/payments/remittances/{remittance}/pdf/", NOT_CLERK),
    "remittance-csv": ("/payments/remittances/{remittance}/csv/", NOT_CLERK),
    "pool-closing": ("/pools/{pool}/closing/", NOT_CLERK),
}
OBJECT_PAGES = [name for name, (path, _) in PAGES.items() if "{" in path]
# POST-only actions: (path, body, expected per role)
ACTIONS = {
    "transition": ("/batches/{batch}/transition/", {"to_status": "grading", "version": "1"},
                   {CLERK: 302, FINANCE: 403, MANAGER: 302}),
    "packout": ("/batches/{batch}/packout/", {"class1_kg": "1", "class2_kg": "0", "class3_kg": "0", "waste_kg": "0",
                                               "version": "1"},
                {CLERK: 200, FINANCE: 403, MANAGER: 200}),
    # No reason: the manager gets the form back with the error (200), the others 403.
    "correct": ("/batches/{batch}/correct/", {"gross_weight_kg": "4100.00", "version": "1"},
                {CLERK: 403, FINANCE: 403, MANAGER: 200}),
    "reverse": ("/payments/{payment}/reverse/", {"reason": "Paid to the wrong grower"},
                {CLERK: 403, FINANCE: 302, MANAGER: 302}),
    "pool-close": ("/pools/{pool}/close/", {}, {CLERK: 403, FINANCE: 302, MANAGER: 302}),
    "pool-remove-charge": ("/pools/{pool}/charges/{charge}/remove/", {}, {CLERK: 403, FINANCE: 302, MANAGER: 302}),
    # The pool is open and the run posted: refused with a message (302 back), but only a clerk is refused the page.
    "run-prepare": ("/payments/runs/prepare/{pool}/", {}, {CLERK: 403, FINANCE: 302, MANAGER: 302}),
    "run-approve": ("/payments/runs/{run}/approve/", {}, {CLERK: 403, FINANCE: 302, MANAGER: 302}),
    "run-post": ("/payments/runs/{run}/post/", {}, {CLERK: 403, FINANCE: 302, MANAGER: 302}),
    "run-cancel": ("/payments/runs/{run}/cancel/", {}, {CLERK: 403, FINANCE: 302, MANAGER: 302}),
}


@pytest.fixture
def world(acme, batch_with_payment):
    from payments.models import GrowerPayment

    batch = batch_with_payment
    from decimal import Decimal

    from payments import services as payment_services
    from payments.tests.runs_helpers import approved_run, closed_pool
    from pools import services as pool_services
    from seasons.services import current_season

    with acme:
        payment = GrowerPayment.objects.get(reference="R-1")
        pool = pool_services.create_pool(season=current_season(), code="P-ACCESS", name="Access", fruit_type="apple")
        charge = pool_services.add_charge_rule(pool, name="Levy", kind="levy", basis="per_kg_received",
                                               rate=Decimal("0.01"))
        run = approved_run(closed_pool(code="P-RUNS", fruit_type="pear", variety="Packham"), acme.user("Finance"),
                           acme.user("Manager"))
        run, _ = payment_services.post_run(run, by=acme.user("Finance"))
        remittance = run.remittances.order_by("number").first()
    return SimpleNamespace(batch=batch.pk, grower=batch.grower_id, packhouse=batch.packhouse_id, payment=payment.pk,
                           pool=pool.pk, charge=charge.pk, run=run.pk, remittance=remittance.pk)


def url(path, world):
    return path.format(**vars(world))


@pytest.mark.parametrize("role", [CLERK, FINANCE, MANAGER])
@pytest.mark.parametrize("name", PAGES)
def test_each_role_gets_what_it_may(acme, world, name, role):
    path, expected = PAGES[name]

    response = acme.client(role).get(url(path, world))

    assert response.status_code == expected[role]
    if response.status_code == 403:
        assert "Not allowed" in response.content.decode()


@pytest.mark.parametrize("role", [CLERK, FINANCE, MANAGER])
@pytest.mark.parametrize("name", ACTIONS)
def test_actions_by_role(acme, world, name, role):
    path, body, expected = ACTIONS[name]

    response = acme.client(role).post(url(path, world), body)

    assert response.status_code == expected[role]


@pytest.mark.parametrize("name", list(PAGES) + list(ACTIONS))
def test_anonymous_is_sent_to_login(acme, world, name):
    path = PAGES[name][0] if name in PAGES else ACTIONS[name][0]
    client = acme.client()

    response = client.post(url(path, world)) if name in ACTIONS else client.get(url(path, world))

    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=")


@pytest.mark.parametrize("name", OBJECT_PAGES + list(ACTIONS))
def test_the_other_companys_objects_are_404(globex, world, name):
    path = PAGES[name][0] if name in PAGES else ACTIONS[name][0]
    client = globex.client(MANAGER)

    response = client.post(url(path, world), {}) if name in ACTIONS else client.get(url(path, world))

    assert response.status_code == 404
    assert "Not found" in response.content.decode()


def test_the_other_companys_session_is_anonymous_here(acme, globex, world):
    client = globex.client(MANAGER)

    response = client.get("/batches/", HTTP_HOST=acme.host)

    assert response.status_code == 302


def test_navigation_follows_the_role(acme):
    clerk = acme.client(CLERK).get("/").content.decode()
    finance = acme.client(FINANCE).get("/").content.decode()

    assert "New intake" in clerk and "Record payment" not in clerk and ">Admin<" not in clerk
    assert "Record payment" in finance and "New intake" not in finance


def test_every_page_has_a_title_and_a_skip_link(acme, world):
    client = acme.client(MANAGER)
    for name, (path, _) in PAGES.items():
        # CSVs, a PDF and fragments that htmx swaps in.
        if name in ("batches-export", "grower-search", "pool-closing", "remittance-pdf", "remittance-csv"):
            continue
        html = client.get(url(path, world)).content.decode()
        assert "<title>" in html and "</title>" in html, name
        assert 'href="#main">Skip to content' in html, name


def test_csrf_is_required_on_forms(acme, world):
    client = Client(HTTP_HOST=acme.host, enforce_csrf_checks=True)
    with acme:
        client.force_login(acme.user(CLERK))

    response = client.post(f"/batches/{world.batch}/transition/", {"to_status": "grading", "version": "1"})

    assert response.status_code == 403
    with acme:
        from batches.models import Batch

        assert Batch.objects.get(pk=world.batch).status == "received"


def test_unknown_page_is_our_404(acme):
    response = acme.client(CLERK).get("/no-such-page/")

    assert response.status_code == 404
    assert "Not found" in response.content.decode()


def test_harvest_date_defaults_to_today_and_cannot_be_later(acme):
    html = acme.client(CLERK).get("/batches/new/").content.decode()

    assert f'max="{company_today().isoformat()}"' in html
    assert (company_today() + dt.timedelta(days=1)).isoformat() not in html
