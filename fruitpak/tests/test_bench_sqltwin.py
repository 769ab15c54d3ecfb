"""The bench's SQL-only twin (bench/sqltwin.py) and the query log it replays (bench/sqlcapture.py)."""

import json
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

sys.path.insert(0, str(Path(settings.BASE_DIR) / "bench"))
from sqltwin import Replay, SqlTwin, dispatcher  # noqa: E402

CAPTURE = "bench.sqlcapture.SqlCaptureMiddleware"


def bench_settings(directory):
    return override_settings(BENCH_BASELINE_DIR=str(directory), MIDDLEWARE=[CAPTURE, *settings.MIDDLEWARE])


def database_url():
    db = connection.settings_dict
    return f"postgresql://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


def test_production_settings_do_not_install_the_capture():
    assert CAPTURE not in settings.MIDDLEWARE


@pytest.mark.django_db
def test_a_marked_request_logs_every_statement_it_sends(acme, tmp_path):
    client = acme.api_client("Clerk")
    with bench_settings(tmp_path):
        # Django empties the debug query log when a request starts, so afterwards it holds this request's.
        with CaptureQueriesContext(connection):
            response = client.get("/api/batches/?limit=5", HTTP_X_BENCH_CAPTURE="batches")
            sent = [query["sql"] for query in connection.queries]
        unmarked = client.get("/api/batches/?limit=5")

    assert response.status_code == 200 and unmarked.status_code == 200
    log = json.loads((tmp_path / "batches.sql.json").read_text())
    assert log["status"] == 200
    assert [entry["sql"] for entry in log["statements"]] == sent
    # The tenant's search path is a statement like the others: the twin must send it too.
    assert any(entry["sql"] == 'SET search_path = "acme","public"' for entry in log["statements"])
    assert any('FROM "batches"' in entry["sql"] for entry in log["statements"])
    assert list(tmp_path.iterdir()) == [tmp_path / "batches.sql.json"], "only the marked request is logged"


@pytest.mark.django_db
def test_a_marked_post_logs_its_transaction_and_returned_rows(acme, tmp_path):
    from batches.tests.factories import BatchFactory

    with acme:
        batch = BatchFactory()
    client = acme.api_client("Clerk")
    with bench_settings(tmp_path):
        response = client.post(f"/api/batches/{batch.pk}/transition/", {"to_status": "grading"}, format="json",
                               HTTP_X_BENCH_CAPTURE="transition")

    assert response.status_code == 200, response.content
    statements = json.loads((tmp_path / "transition.sql.json").read_text())["statements"]
    writes = [entry for entry in statements if entry["sql"].startswith(("INSERT", "UPDATE"))]
    assert writes and all(entry["atomic"] for entry in writes)
    history = next(entry for entry in writes if "batch_history" in entry["sql"])
    assert history["columns"] == ["id"] and isinstance(history["first_row"][0], int)


@pytest.mark.django_db
def test_the_twin_replays_the_log_and_answers_the_captured_bytes(acme, tmp_path):
    client = acme.api_client("Clerk")
    with bench_settings(tmp_path):
        response = client.get("/api/batches/?limit=5", HTTP_X_BENCH_CAPTURE="batches")
    (tmp_path / "batches.body").write_bytes(response.content)
    (tmp_path / "batches.type").write_text(response["Content-Type"])
    captured = len(json.loads((tmp_path / "batches.sql.json").read_text())["statements"])
    twin = SqlTwin(tmp_path, database_url(), max_size=1)
    django_calls = []
    application = dispatcher(lambda environ, start: django_calls.append(environ["PATH_INFO"]) or [b"app"], twin)
    answers = []

    def start_response(status, headers):
        answers.append((status, dict(headers)))

    try:
        body = b"".join(application({"PATH_INFO": "/__sqltwin__/batches"}, start_response))
        missing = b"".join(application({"PATH_INFO": "/__sqltwin__/nothing"}, start_response))
        unsafe = b"".join(application({"PATH_INFO": "/__sqltwin__/../etc"}, start_response))
        other = b"".join(application({"PATH_INFO": "/api/batches/"}, start_response))
    finally:
        twin.pool.close()

    assert body == response.content
    assert answers[0][0] == "200 OK"
    assert answers[0][1]["Content-Type"] == response["Content-Type"]
    assert int(answers[0][1]["X-Twin-Statements"]) == captured
    assert answers[1][0].startswith("404") and answers[2][0].startswith("404")
    assert missing == unsafe == b"no such twin"
    assert other == b"app" and django_calls == ["/api/batches/"]


def test_a_replayed_intake_carries_the_new_batch_number_and_id_into_what_follows():
    counter = {"sql": "INSERT INTO batch_code_counters (packhouse_id, day, last) SELECT ... RETURNING packhouse_id, "
                      "day, last", "columns": ["packhouse_id", "day", "last"], "first_row": [1, None, 7]}
    batch = {"sql": "INSERT INTO \"batches\" (\"batch_code\", \"grower_id\") VALUES ('PH1-20261201-0007', 7) "
                    "RETURNING \"batches\".\"id\"", "columns": ["id"], "first_row": [20001]}
    history = "INSERT INTO \"batch_history\" (\"batch_id\", \"payload\") VALUES (20001, '{\"batch_code\": " \
              "\"PH1-20261201-0007\", \"net\": \"20001.50\"}')"
    replay = Replay()

    replay.learn(counter, (1, None, 42))
    assert replay.rewrite(batch["sql"]).startswith("INSERT INTO \"batches\" (\"batch_code\", \"grower_id\") "
                                                   "VALUES ('PH1-20261201-0042', 7)")
    replay.learn(batch, (30555,))
    rewritten = replay.rewrite(history)

    assert rewritten.startswith("INSERT INTO \"batch_history\" (\"batch_id\", \"payload\") VALUES (30555, ")
    # A number that only looks like the id (a weight) is left alone; the grower id 7 was never an id returned.
    assert "\"net\": \"20001.50\"" in rewritten
    assert "\"PH1-20261201-0007\"" in rewritten, "a code inside JSON is not a SQL literal and keeps its bytes"


def test_a_read_teaches_the_replay_nothing():
    replay = Replay()
    replay.learn({"sql": "SELECT id FROM batches", "columns": ["id"], "first_row": [5]}, (6,))
    assert replay.rewrite("SELECT 5") == "SELECT 5"
