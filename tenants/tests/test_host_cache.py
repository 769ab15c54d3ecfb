"""Which company a hostname serves, cached in Redis (tenants.models.company_for_host).

A warm host costs no query; any write to companies or domains through Django
(save, delete, QuerySet.update(), raw SQL: core/write_watch.py) makes the
next request ask the database again, so a suspension or a removed domain
counts at once. Writes run inside
django_capture_on_commit_callbacks(execute=True), as if they committed.
"""

from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import get_public_schema_name, schema_context

from core.tests.helpers import redis_down_caches
from tenants.models import Domain

DOMAIN_QUERY = '"tenants_domain"'


def sql_of(client, path="/login/"):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    return response, [query["sql"] for query in captured.captured_queries]


def public():
    return schema_context(get_public_schema_name())


def test_a_warm_host_is_routed_without_the_domain_query_or_the_public_search_path(acme):
    client = acme.client()
    client.get("/login/")

    response, sql = sql_of(client)

    assert response.status_code == 200 and "Log in to Acme Fruit" in response.text
    assert not any(DOMAIN_QUERY in statement for statement in sql)
    assert not any(statement == 'SET search_path = "public"' for statement in sql)


def test_the_cached_company_is_the_whole_row(acme):
    client = acme.client("Clerk")
    client.get("/")

    response = client.get("/")

    tenant = response.wsgi_request.tenant
    assert (tenant.pk, tenant.schema_name, tenant.name, tenant.time_zone, tenant.is_active) == (
        acme.company.pk, "acme", "Acme Fruit", acme.company.time_zone, True)
    assert tenant.variance_threshold_amount == acme.company.variance_threshold_amount
    assert not tenant._state.adding


def test_each_host_gets_its_own_company_from_the_cache(acme, globex):
    for _ in range(2):
        assert "Log in to Acme Fruit" in acme.client().get("/login/").text
        assert "Log in to Globex Orchards" in globex.client().get("/login/").text


def test_suspending_a_company_closes_its_host_on_the_next_request(acme, committed):
    client = acme.api_client("Clerk")
    assert client.get("/api/growers/").status_code == 200  # host and page cached

    with public(), committed():
        acme.company.is_active = False
        acme.company.save()
    suspended = client.get("/api/growers/")
    with public(), committed():
        acme.company.is_active = True
        acme.company.save()
    restored = client.get("/api/growers/")

    assert suspended.status_code == 404
    assert restored.status_code == 200


def test_suspension_counts_inside_the_same_transaction_too(acme):
    """Before the commit the entry is already stale: the bump runs at save() and again on commit."""
    client = acme.client()
    assert client.get("/login/").status_code == 200

    with public():
        acme.company.is_active = False
        acme.company.save()

    assert client.get("/login/").status_code == 404


def test_a_suspension_by_queryset_update_counts_at_once(acme):
    client = acme.api_client("Clerk")
    assert client.get("/api/growers/").status_code == 200  # host, grant and page cached

    with public():
        type(acme.company).objects.filter(pk=acme.company.pk).update(is_active=False)

    assert client.get("/api/growers/").status_code == 404


def test_a_domain_moved_away_by_raw_sql_counts_at_once(acme):
    client = acme.client()
    assert client.get("/login/").status_code == 200

    with public(), connection.cursor() as cursor:
        cursor.execute("UPDATE tenants_domain SET domain = 'gone.' || domain WHERE domain = %s", [acme.host])

    assert client.get("/login/").status_code == 404


def test_a_renamed_company_shows_its_new_name_at_once(acme, committed):
    client = acme.client()
    assert "Log in to Acme Fruit" in client.get("/login/").text

    with public(), committed():
        acme.company.name = "Acme Fruit Growers"
        acme.company.save()

    assert "Log in to Acme Fruit Growers" in client.get("/login/").text


def test_a_new_domain_answers_and_a_deleted_one_stops_at_once(acme, committed):
    new_host = acme.client().__class__(HTTP_HOST="fruit.acme.localhost")
    assert new_host.get("/login/").status_code == 404

    with public(), committed():
        domain = Domain.objects.create(domain="fruit.acme.localhost", tenant=acme.company, is_primary=False)
    assert "Log in to Acme Fruit" in new_host.get("/login/").text

    with public(), committed():
        domain.delete()
    assert new_host.get("/login/").status_code == 404


def test_a_domain_renamed_leaves_the_old_host_at_once(acme, committed):
    with public(), committed():
        domain = Domain.objects.create(domain="old.acme.localhost", tenant=acme.company, is_primary=False)
    old_host = acme.client().__class__(HTTP_HOST="old.acme.localhost")
    assert old_host.get("/login/").status_code == 200

    with public(), committed():
        domain.domain = "new.acme.localhost"
        domain.save()

    assert old_host.get("/login/").status_code == 404
    assert acme.client().__class__(HTTP_HOST="new.acme.localhost").get("/login/").status_code == 200


def test_another_companys_host_never_gets_this_one(acme, globex, committed):
    acme.client().get("/login/")
    with public(), committed():
        globex.company.is_active = False
        globex.company.save()

    assert globex.client().get("/login/").status_code == 404
    assert acme.client().get("/login/").status_code == 200


def test_with_redis_down_hosts_are_routed_from_the_database(acme, globex):
    with override_settings(CACHES=redis_down_caches()):
        acme_page = acme.client().get("/login/")
        response, sql = sql_of(globex.client())
        unknown = acme.client().__class__(HTTP_HOST="nobody.localhost").get("/login/")

    assert "Log in to Acme Fruit" in acme_page.text
    assert "Log in to Globex Orchards" in response.text
    assert any(DOMAIN_QUERY in statement for statement in sql)
    assert unknown.status_code == 404


def test_a_warm_request_sets_the_search_path_once(acme):
    """TENANT_LIMIT_SET_CALLS: one SET per request (the pooled connection forgets it), for the company only."""
    client = acme.client("Clerk")
    client.get("/batches/")

    response, sql = sql_of(client, "/batches/")

    assert response.status_code == 200
    assert [statement for statement in sql if statement.startswith("SET search_path")] == [
        'SET search_path = "acme","public"']
    assert len(sql) > 3  # the page did run its own queries after the SET
