"""Thousands of SSCCs, each checked against a check digit computed here, never one issued twice."""

import threading

import pytest
from django.db import connection, transaction

from packhouses.tests.factories import PackhouseFactory
from pallets import services
from pallets.models import Pallet

pytestmark = pytest.mark.django_db


def gs1_check_digit(digits):
    """GS1 mod-10, written out independently of the app: weights 3, 1, 3, ... from the rightmost digit."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(digits)))
    return str((10 - total % 10) % 10)


def test_known_sscc():
    # GS1's example SSCC: (00) 1 0614141 123456789 7.
    assert gs1_check_digit("10614141123456789") == "7"


def test_three_thousand_ssccs_are_valid_and_distinct(in_acme):
    ssccs = [services.issue_sscc() for _ in range(3000)]

    assert len(set(ssccs)) == 3000
    for number in ssccs:
        assert len(number) == 18 and number.isdigit()
        assert number[:8] == "36001234"
        assert number[-1] == gs1_check_digit(number[:17]), number
    serials = [int(number[8:17]) for number in ssccs]
    assert serials == list(range(serials[0], serials[0] + 3000))


@pytest.fixture
def committed_packhouse(gs1):
    made = {}

    def make():
        connection.set_tenant(gs1.company)
        made["packhouse"] = PackhouseFactory()

    run(make)
    yield made["packhouse"]

    def cleanup():
        connection.set_tenant(gs1.company)
        with connection.cursor() as cursor:
            cursor.execute("TRUNCATE pallet_history, pallet_lines, pallets, sscc_counter, packhouses "
                           "RESTART IDENTITY CASCADE")

    run(cleanup)


def run(work):
    errors = []

    def target():
        try:
            work()
        except Exception as exc:  # raised again below
            errors.append(exc)
        finally:
            connection.close()

    thread = threading.Thread(target=target)
    thread.start()
    thread.join(120)
    if errors:
        raise errors[0]


def test_concurrent_builds_never_share_a_serial(gs1, committed_packhouse):
    clerks, builds = 4, 60
    start = threading.Barrier(clerks)
    issued, errors = [], []
    lock = threading.Lock()

    def clerk():
        try:
            connection.set_tenant(gs1.company)
            start.wait(10)
            for _ in range(builds):
                with transaction.atomic():
                    pallet = services.build_pallet(committed_packhouse)
                with lock:
                    issued.append(pallet.sscc)
        except Exception as exc:  # the test fails with it below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=clerk) for _ in range(clerks)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)

    assert not errors
    assert len(issued) == len(set(issued)) == clerks * builds
    assert all(number[-1] == gs1_check_digit(number[:17]) for number in issued)
    stored = []
    run(lambda: (connection.set_tenant(gs1.company), stored.extend(Pallet.objects.values_list("sscc", flat=True))))
    assert sorted(stored) == sorted(issued)
    assert sorted(int(number[8:17]) for number in issued) == list(range(1, clerks * builds + 1))
