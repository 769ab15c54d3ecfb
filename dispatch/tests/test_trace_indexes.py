"""Every statement of a trace can read through an index: with sequential scans priced out, no plan still
holds a Seq Scan (a statement without a usable index would keep one). docs/TRACE.md lists the plans;
TRACE_EXPLAIN=path writes them there again."""

import os

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from dispatch import trace

from .test_trace import chain  # noqa: F401  (the fixture)

pytestmark = pytest.mark.django_db


def plans(query):
    with CaptureQueriesContext(connection) as captured:
        trace.trace(query)
    out = []
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        for statement in captured.captured_queries:
            sql = statement["sql"]
            # The identifier's lookups are one UNION ALL of parenthesised SELECTs.
            if not sql.lstrip("( \n").upper().startswith("SELECT"):
                continue
            cursor.execute("EXPLAIN " + sql)
            out.append((sql, "\n".join(row[0] for row in cursor.fetchall())))
    return out


def test_trace_reads_through_indexes(in_acme, chain):  # noqa: F811
    first, second, mixed, rest, stored, out, waiting = chain
    queries = {"batch code": first.batch_code, "bin code": "BIN-0042", "SSCC": mixed.sscc,
               "load number": out.load_number, "block": f"{first.block.farm.code}/{first.block.code}",
               "grower code": first.grower.code}
    report = []
    for kind, query in queries.items():
        explained = plans(query)
        assert len(explained) == 5, kind  # every statement of the trace (test_trace counts them)
        for sql, plan in explained:
            assert "Seq Scan" not in plan, f"{kind}: {sql}\n{plan}"
            report.append(f"-- {kind}\n{sql};\n{plan}\n")
    if os.environ.get("TRACE_EXPLAIN"):
        with open(os.environ["TRACE_EXPLAIN"], "w") as handle:
            handle.write("\n".join(report))
