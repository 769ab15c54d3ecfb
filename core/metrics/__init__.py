"""The application's Prometheus metrics: what is counted, and the helpers the rest of the code calls.

Served at /metrics by core.metrics.middleware (loopback or METRICS_TOKEN; any host, no tenant). Under
gunicorn the numbers of all workers add up: gunicorn.conf.py points PROMETHEUS_MULTIPROC_DIR at a fresh
directory before the workers import this module, and prometheus_client then keeps every value in a file
there (docs/OBSERVABILITY.md).

Labels stay bounded: view names (the URL patterns' names, not paths), methods, statuses, cache
namespaces, job statuses and task names. The company is a label only on the login counters, where a
company under attack is the point and the series grow with the companies, not with the traffic; never
on the per-view request, latency and query metrics (docs/OBSERVABILITY.md, "Labels").
"""

from django_prometheus.middleware import Metrics
from prometheus_client import Counter, Histogram

# The request latency buckets, in seconds. A fast-path answer takes about a millisecond and a report
# seconds; gunicorn ends a request at 30 s.
LATENCY_BUCKETS = (0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, float("inf"))
QUERY_BUCKETS = (0, 1, 2, 3, 5, 8, 13, 21, 34, 55, 89, float("inf"))

# What the cached lists and aggregates are counted under (core.cache): the API lists by their namespace,
# the dashboard, and the cached COUNT(*) of paginated lists ("totals").
CACHE_NAMESPACES = ("growers", "packhouses", "prices", "dashboard", "totals")
CACHED_DATA_NAMESPACE = {"dashboard": "dashboard", "dashboard_html": "dashboard", "count": "totals"}
# Caches over another cache of the same namespace: a hit counts, a miss does not, since the inner lookup it
# makes counts itself. One request is one lookup, a miss only when the numbers came from SQL.
OUTER_CACHED_DATA = frozenset(("dashboard_html",))
METHODS = frozenset(("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"))
UNRESOLVED = "<unresolved>"


class RequestMetrics(Metrics):
    """django-prometheus's request metrics, under its names, but only the two we read.

    Its middleware pair updates a dozen series per request (methods, transports, body sizes, charsets,
    templates) and never sees the answers core.fastpath gives above the stack; MetricsMiddleware updates
    these two for every request, fast-path answers included.
    """

    def register(self):
        self.responses_by_status_view_method = self.register_metric(
            Counter, "django_http_responses_total_by_status_view_method",
            "Responses by status, view and method.", ["status", "view", "method"],
        )
        self.requests_latency_by_view_method = self.register_metric(
            Histogram, "django_http_requests_latency_seconds_by_view_method",
            "Time from the top of the middleware stack to the response, by view and method.", ["view", "method"],
            buckets=LATENCY_BUCKETS,
        )


REQUESTS = RequestMetrics.get_instance()

DB_QUERIES = Counter("fruitpak_db_queries", "SQL statements run by web requests, by view.", ["view"])
DB_QUERIES_PER_REQUEST = Histogram(
    "fruitpak_db_queries_per_request", "SQL statements per web request.", buckets=QUERY_BUCKETS,
)
CACHE_REQUESTS = Counter(
    "fruitpak_cache_requests", "Cached list and aggregate lookups, by namespace and result (hit or miss).",
    ["namespace", "result"],
)
FAST_PATH_ANSWERS = Counter(
    "fruitpak_fastpath_answers", "API list pages answered from Redis above the middleware stack (core.fastpath).",
    ["namespace"],
)
LOGIN_FAILURES = Counter(
    "fruitpak_login_failures", "Failed logins (wrong email or password), by company and channel (api, html).",
    ["company", "channel"],
)
LOGIN_LOCKOUTS = Counter(
    "fruitpak_login_lockouts", "Login attempts refused because of a lockout, by company and channel.",
    ["company", "channel"],
)

# Every series the alerts and the dashboard read exists from the start, at 0: rate() needs two samples,
# and a hit rate with no misses yet must not be "no data".
for _namespace in CACHE_NAMESPACES:
    FAST_PATH_ANSWERS.labels(_namespace)
    for _result in ("hit", "miss"):
        CACHE_REQUESTS.labels(_namespace, _result)


def cache_lookup(namespace, hit):
    CACHE_REQUESTS.labels(namespace, "hit" if hit else "miss").inc()


def fast_path_answer(namespace):
    FAST_PATH_ANSWERS.labels(namespace).inc()


def login_failed(company, channel):
    LOGIN_FAILURES.labels(company, channel).inc()


def login_locked_out(company, channel):
    LOGIN_LOCKOUTS.labels(company, channel).inc()


def method_label(method):
    return method if method in METHODS else "other"
