"""Scrape /metrics (core/metrics) from each app server before and after the scenarios, and the deltas.

The app servers are scraped directly on loopback (the app answers /metrics to a loopback client, or to
`Authorization: Bearer $METRICS_TOKEN` when that is set): each gunicorn master adds up its own workers
(prometheus_client's multiprocess mode), so the company's totals are the sum over the servers.
"""

import http.client
import os
from collections import defaultdict

from prometheus_client.parser import text_string_to_metric_families

RESPONSES = "django_http_responses_total_by_status_view_method_total"
LATENCY = "django_http_requests_latency_seconds_by_view_method"
QUERIES = "fruitpak_db_queries_total"
QUERIES_PER_REQUEST = "fruitpak_db_queries_per_request"
CACHE = "fruitpak_cache_requests_total"
FAST_PATH = "fruitpak_fastpath_answers_total"


def scrape(ports, address="127.0.0.1"):
    """{(sample name, sorted label items): value}, summed over the app servers."""
    totals = defaultdict(float)
    headers = {"Host": "localhost"}
    if os.environ.get("METRICS_TOKEN"):
        headers["Authorization"] = f"Bearer {os.environ['METRICS_TOKEN']}"
    for port in ports:
        connection = http.client.HTTPConnection(address, port, timeout=30)
        try:
            connection.request("GET", "/metrics", headers=headers)
            response = connection.getresponse()
            text = response.read().decode()
        finally:
            connection.close()
        if response.status != 200:
            raise RuntimeError(f"/metrics on :{port} answered HTTP {response.status}")
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                labels = tuple(sorted((k, v) for k, v in sample.labels.items() if k != "pid"))
                totals[(sample.name, labels)] += sample.value
    return dict(totals)


def deltas(before, after):
    """The figures that moved between two scrapes, grouped for the report."""
    moved = {key: after[key] - before.get(key, 0.0) for key in after if after[key] - before.get(key, 0.0)}

    def rows(name):
        return [(dict(labels), value) for (sample, labels), value in moved.items() if sample == name]

    views = defaultdict(lambda: {"requests": 0, "by_status": {}, "latency_buckets": {}, "latency_count": 0,
                                 "latency_sum_s": 0.0, "db_queries": 0})
    for labels, value in rows(RESPONSES):
        view = views[labels["view"]]
        view["requests"] += int(value)
        key = f"{labels['method']} {labels['status']}"
        view["by_status"][key] = view["by_status"].get(key, 0) + int(value)
    for labels, value in rows(f"{LATENCY}_bucket"):
        views[labels["view"]]["latency_buckets"][labels["le"]] = int(value)
    for labels, value in rows(f"{LATENCY}_count"):
        views[labels["view"]]["latency_count"] += int(value)
    for labels, value in rows(f"{LATENCY}_sum"):
        views[labels["view"]]["latency_sum_s"] += round(value, 4)
    for labels, value in rows(QUERIES):
        views[labels["view"]]["db_queries"] += int(value)
    for view in views.values():
        requests, timed = view["requests"], view["latency_count"]
        view["db_queries_per_request"] = round(view["db_queries"] / requests, 2) if requests else None
        view["mean_ms"] = round(1000 * view["latency_sum_s"] / timed, 2) if timed else None
    per_request = {labels.get("le"): int(value) for labels, value in rows(f"{QUERIES_PER_REQUEST}_bucket")}
    count = sum(value for _, value in rows(f"{QUERIES_PER_REQUEST}_count"))
    total = sum(value for _, value in rows(f"{QUERIES_PER_REQUEST}_sum"))
    cache = defaultdict(dict)
    for labels, value in rows(CACHE):
        cache[labels["namespace"]][labels["result"]] = int(value)
    fast = {labels["namespace"]: int(value) for labels, value in rows(FAST_PATH)}
    return {
        "views": dict(sorted(views.items(), key=lambda item: -item[1]["requests"])),
        "db_queries_per_request": {"requests": int(count), "queries": int(total),
                                   "mean": round(total / count, 2) if count else None, "buckets": per_request},
        "cache": dict(cache),
        "fast_path": fast,
    }


def table(report):
    head = f"{'view':<40} {'requests':>9} {'statuses':<34} {'mean ms':>8} {'queries/req':>11}"
    lines = [head, "-" * len(head)]
    for name, view in report["views"].items():
        statuses = ", ".join(f"{key}: {n}" for key, n in sorted(view["by_status"].items()))
        mean = f"{view['mean_ms']:.2f}" if view["mean_ms"] is not None else "-"
        per = f"{view['db_queries_per_request']:.2f}" if view["db_queries_per_request"] is not None else "-"
        lines.append(f"{name[:40]:<40} {view['requests']:>9} {statuses[:34]:<34} {mean:>8} {per:>11}")
    overall = report["db_queries_per_request"]
    lines.append(f"all requests: {overall['requests']} with {overall['queries']} queries "
                 f"({overall['mean']} per request)")
    caches = ", ".join(f"{ns} {v.get('hit', 0)} hit / {v.get('miss', 0)} miss"
                       for ns, v in sorted(report["cache"].items())) or "none"
    lines.append(f"cache: {caches}")
    fast = ", ".join(f"{ns} {n}" for ns, n in sorted(report["fast_path"].items())) or "none"
    lines.append(f"fast-path answers: {fast}")
    return "\n".join(lines)
