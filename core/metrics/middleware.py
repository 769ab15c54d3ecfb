"""MetricsMiddleware: /metrics on any host, and every request counted, timed and its SQL statements counted.

It is the first middleware, above core.middleware.HealthCheckMiddleware and core.fastpath, so it sees
every response: health probes, fast-path answers, static files, 404s of unknown hosts. /metrics is answered
here, before the tenant is looked up, like /health: it needs no company and no host in the Domain table.

Who may read /metrics: a client on loopback (both the TCP peer and the client address after
TRUSTED_PROXY_COUNT proxies, so nothing forwarded by nginx for someone else counts), or a request with
`Authorization: Bearer <METRICS_TOKEN>` (compared in constant time). Anyone else gets a 404, as if there
were nothing here; a wrong token a 403. nginx.conf passes /metrics only from internal networks as well.

What it costs a request: two clock reads, an execute wrapper on the thread's database connection (a
function call per statement), and three metric updates; no SQL and no Redis.
"""

import hmac
import ipaddress
import os
import time

from django.conf import settings
from django.db import connections
from django.http import HttpResponse, HttpResponseNotAllowed, JsonResponse
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest, multiprocess

from core.clients import client_ip_address

from . import DB_QUERIES, DB_QUERIES_PER_REQUEST, REQUESTS, UNRESOLVED, method_label
from .collectors import ScrapeCollector

PATH = "/metrics"
# Requests answered above URL resolution, named so they do not all fall under UNRESOLVED.
ABOVE_THE_URLCONF = {"/health": "health", "/health/ready": "health_ready"}

NOT_FOUND = {"detail": "Not found.", "code": "not_found"}
FORBIDDEN = {"detail": "This token may not read the metrics.", "code": "permission_denied"}


class QueryCounter:
    __slots__ = ("count",)

    def __init__(self):
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


class MetricsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        # The labelled children, kept by their labels: labels() takes a lock and checks its arguments on
        # every call, a third of this middleware's cost. As bounded as the labels themselves.
        self.series = {}

    def __call__(self, request):
        if request.path_info == PATH:
            return metrics_view(request)
        started = time.perf_counter()
        counter = QueryCounter()
        wrappers = connections["default"].execute_wrappers
        wrappers.append(counter)
        try:
            response = self.get_response(request)
        finally:
            wrappers.remove(counter)
        elapsed = time.perf_counter() - started
        key = (response.status_code, view_label(request), request.method)
        series = self.series.get(key)
        if series is None:
            series = self.series[key] = labelled(*key)
        responses, latency, queries = series
        responses.inc()
        latency.observe(elapsed)
        DB_QUERIES_PER_REQUEST.observe(counter.count)
        if counter.count:
            queries.inc(counter.count)
        return response


def labelled(status, view, method):
    method = method_label(method)
    return (REQUESTS.responses_by_status_view_method.labels(str(status), view, method),
            REQUESTS.requests_latency_by_view_method.labels(view, method), DB_QUERIES.labels(view))


def view_label(request):
    """The URL pattern's name (bounded, unlike the path); the fast path names the list it answered."""
    match = request.resolver_match
    if match is not None and match.view_name:
        return match.view_name
    fast_path_view = getattr(request, "fast_path_view", None)
    if fast_path_view:
        return fast_path_view
    return ABOVE_THE_URLCONF.get(request.path_info.rstrip("/"), UNRESOLVED)


# --- /metrics ----------------------------------------------------------------------------------------------


def is_loopback(address):
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


def refusal(request):
    """None when the request may read the metrics, else the response that refuses it."""
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if header:
        scheme, _, given = header.partition(" ")
        token = settings.METRICS_TOKEN
        if scheme.lower() == "bearer" and token and hmac.compare_digest(given.strip().encode(), token.encode()):
            return None
        return JsonResponse(FORBIDDEN, status=403)
    if is_loopback(request.META.get("REMOTE_ADDR", "")) and is_loopback(client_ip_address(request)):
        return None
    return JsonResponse(NOT_FOUND, status=404)


def metrics_view(request):
    refused = refusal(request)
    if refused is not None:
        refused["Cache-Control"] = "no-store, private"
        return refused
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "HEAD"])
    response = HttpResponse(scrape(), content_type=CONTENT_TYPE_LATEST)
    response["Cache-Control"] = "no-store, private"
    return response


def scrape():
    """The exposition text: every worker's counters (multiprocess) or this process's, then the scrape-time figures."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        counted = CollectorRegistry()
        multiprocess.MultiProcessCollector(counted)
    else:
        counted = REGISTRY
    at_scrape = CollectorRegistry(auto_describe=False)
    at_scrape.register(ScrapeCollector())
    return generate_latest(counted) + generate_latest(at_scrape)
