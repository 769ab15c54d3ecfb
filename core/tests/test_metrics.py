"""/metrics: the counters move with real requests, and only loopback or the token may read them.

The registry is the process's own (no PROMETHEUS_MULTIPROC_DIR under pytest), shared by every test, so
each test compares a scrape after its requests with one before.
"""

import pytest
from django.test import Client
from prometheus_client.parser import text_string_to_metric_families

from conftest import role_email

pytestmark = pytest.mark.django_db

OUTSIDE = "203.0.113.9"
TOKEN = "s3cret-metrics-token-for-tests"


def scrape(**extra):
    response = Client(HTTP_HOST="anything.example").get("/metrics", **extra)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain")
    return samples(response.content.decode())


def samples(text):
    """{(name, frozenset(labels)): value} of every sample in the exposition text."""
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return found


def value(found, name, **labels):
    return found.get((name, frozenset(labels.items())), 0.0)


def total(found, name, **labels):
    """The sum over every series of `name` whose labels include `labels`."""
    wanted = set(labels.items())
    return sum(v for (n, ls), v in found.items() if n == name and wanted <= ls)


@pytest.fixture
def tenant_settings(settings):
    settings.ALLOWED_HOSTS = ["*"]
    return settings


def test_the_counters_move_with_real_requests(acme, tenant_settings):
    before = scrape()
    api = acme.api_client("Clerk")
    assert api.get("/api/growers/").status_code == 200
    assert api.get("/api/growers/").status_code == 200
    html = acme.client("Manager")
    assert html.get("/").status_code == 200
    assert html.get("/").status_code == 200
    failed = acme.api_client().post("/api/auth/login", {"email": role_email("acme", "Clerk"), "password": "wrong!"},
                                    format="json")
    assert failed.status_code == 401
    after = scrape()

    def moved(name, **labels):
        return total(after, name, **labels) - total(before, name, **labels)

    list_view = "grower-list"
    assert moved("django_http_responses_total_by_status_view_method_total", view=list_view, status="200",
                 method="GET") == 2
    assert moved("django_http_requests_latency_seconds_by_view_method_count", view=list_view, method="GET") == 2
    assert moved("django_http_responses_total_by_status_view_method_total", view="api-login", status="401") == 1
    # The first list was built from SQL and cached; the second came from the cache, through the view or
    # straight from Redis above the stack (the fast path), depending on whether a grant was made.
    assert moved("fruitpak_cache_requests_total", namespace="growers", result="miss") == 1
    assert (moved("fruitpak_cache_requests_total", namespace="growers", result="hit")
            + moved("fruitpak_fastpath_answers_total", namespace="growers")) == 1
    # The dashboard: computed once, then a hit.
    assert moved("fruitpak_cache_requests_total", namespace="dashboard", result="miss") == 1
    assert moved("fruitpak_cache_requests_total", namespace="dashboard", result="hit") == 1
    assert moved("fruitpak_login_failures_total", company="acme", channel="api") == 1
    assert moved("fruitpak_db_queries_total", view=list_view) > 0
    assert moved("fruitpak_db_queries_per_request_count") >= 6
    assert value(after, "fruitpak_ready", part="database") == 1
    assert value(after, "fruitpak_ready", part="redis") == 1
    assert ("fruitpak_jobs_queued", frozenset()) in after
    assert ("fruitpak_jobs_oldest_queued_age_seconds", frozenset()) in after


def test_the_fast_path_counts_its_answers_under_the_list_view(acme, tenant_settings):
    api = acme.api_client("Clerk")
    assert api.get("/api/packhouses/").status_code == 200  # a miss: stores the page and makes the grant
    before = scrape()
    assert api.get("/api/packhouses/").status_code == 200
    after = scrape()
    fast = (total(after, "fruitpak_fastpath_answers_total", namespace="packhouses")
            - total(before, "fruitpak_fastpath_answers_total", namespace="packhouses"))
    assert fast == 1
    assert (total(after, "django_http_responses_total_by_status_view_method_total", view="packhouse-list")
            - total(before, "django_http_responses_total_by_status_view_method_total", view="packhouse-list")) == 1


def test_a_lockout_is_counted(acme, tenant_settings):
    before = scrape()
    client = Client(HTTP_HOST=acme.host)
    statuses = [client.post("/login/", {"username": role_email("acme", "Clerk"), "password": "wrong-password"},
                            REMOTE_ADDR="198.51.100.77").status_code for _ in range(11)]
    assert statuses[-1] == 429
    after = scrape()
    assert (total(after, "fruitpak_login_lockouts_total", company="acme", channel="html")
            - total(before, "fruitpak_login_lockouts_total", company="acme", channel="html")) >= 1
    assert (total(after, "fruitpak_login_failures_total", company="acme", channel="html")
            - total(before, "fruitpak_login_failures_total", company="acme", channel="html")) == 10


def test_a_token_reads_the_metrics_from_anywhere(acme, tenant_settings):
    tenant_settings.METRICS_TOKEN = TOKEN
    assert acme.api_client("Clerk").get("/api/growers/").status_code == 200
    found = scrape(REMOTE_ADDR=OUTSIDE, HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert total(found, "django_http_responses_total_by_status_view_method_total", view="grower-list") >= 1


@pytest.mark.parametrize("extra, status", [
    ({"REMOTE_ADDR": OUTSIDE}, 404),
    ({"REMOTE_ADDR": OUTSIDE, "HTTP_AUTHORIZATION": "Bearer not-the-token"}, 403),
    ({"REMOTE_ADDR": OUTSIDE, "HTTP_AUTHORIZATION": f"Basic {TOKEN}"}, 403),
    # A wrong token is refused even from loopback: a client that sends one means to use it.
    ({"HTTP_AUTHORIZATION": "Bearer not-the-token"}, 403),
    # nginx on this box forwards an outsider from loopback; the address it appended is the client.
    ({"HTTP_X_FORWARDED_FOR": OUTSIDE, "trusted_proxies": 1}, 404),
])
def test_an_outsider_is_refused(tenant_settings, extra, status):
    tenant_settings.METRICS_TOKEN = TOKEN
    tenant_settings.TRUSTED_PROXY_COUNT = extra.pop("trusted_proxies", 0)
    response = Client(HTTP_HOST="anything.example").get("/metrics", **extra)
    assert response.status_code == status
    assert response.json()["code"] == ("not_found" if status == 404 else "permission_denied")
    assert b"django_http" not in response.content


def test_without_a_token_configured_no_bearer_is_accepted(tenant_settings):
    tenant_settings.METRICS_TOKEN = ""
    response = Client().get("/metrics", REMOTE_ADDR=OUTSIDE, HTTP_AUTHORIZATION="Bearer ")
    assert response.status_code == 403


def test_metrics_answer_on_a_host_without_a_company(tenant_settings):
    # No Domain row for this host, and the public host too: /metrics is answered before the tenant lookup.
    for host in ("nowhere.example", "localhost"):
        response = Client(HTTP_HOST=host).get("/metrics")
        assert response.status_code == 200
        assert b"fruitpak_ready" in response.content
