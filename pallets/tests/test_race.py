"""Two clerks put the same batch's last kg on two pallets at the same moment: one wins, the total holds."""

import threading
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction

from core.tests.helpers import finish, start_in_thread
from pallets import services
from pallets.models import PalletLine

from .factories import pallet_with_batch

pytestmark = pytest.mark.django_db


@pytest.fixture
def committed(gs1):
    """Two open pallets and a packed batch (3,000 kg class 1), committed so that other connections see them."""
    def make():
        pallet, batch = pallet_with_batch()
        return pallet, services.build_pallet(pallet.packhouse), batch

    made = finish(*start_in_thread(gs1.company, make))
    assert "error" not in made, made
    yield made["value"]

    def cleanup():
        with connection.cursor() as cursor:
            cursor.execute(
                "TRUNCATE pallet_history, pallet_lines, pallets, sscc_counter, batch_history, batch_bins, batches, "
                "batch_code_counters, blocks, farms, growers, packhouses RESTART IDENTITY CASCADE"
            )

    finish(*start_in_thread(gs1.company, cleanup))


def test_two_clerks_race_for_the_last_kg(gs1, committed):
    first, second, batch = committed
    go = threading.Barrier(2)

    def clerk(pallet):
        def work():
            go.wait(10)
            return services.add_line(pallet, batch=batch, grade="class1", cartons=100, kg=Decimal("2000"))
        return work

    runs = [start_in_thread(gs1.company, clerk(pallet)) for pallet in (first, second)]
    outcomes = [finish(*run) for run in runs]

    won = [o for o in outcomes if "value" in o]
    lost = [o for o in outcomes if "error" in o]
    assert len(won) == 1 and len(lost) == 1
    assert isinstance(lost[0]["error"], ValidationError)
    assert "1000.00 kg of class 1 left" in " ".join(lost[0]["error"].messages)
    total = finish(*start_in_thread(gs1.company, lambda: sum(PalletLine.objects.values_list("kg", flat=True))))
    assert total["value"] == Decimal("2000.00") <= batch.class1_kg


def test_the_trigger_alone_holds_the_line(gs1, committed):
    """Two writers that skip the service: the trigger's lock on the batch makes the second count the first."""
    first, second, batch = committed
    inserted, release = threading.Event(), threading.Event()

    def insert(pallet, hold):
        def work():
            with transaction.atomic():
                PalletLine.objects.create(pallet=pallet, batch=batch, grade="class1", cartons=1, kg=Decimal("2000"))
                if hold:
                    inserted.set()
                    release.wait(10)
        return work

    holder = start_in_thread(gs1.company, insert(first, hold=True))
    assert inserted.wait(10)
    waiter = start_in_thread(gs1.company, insert(second, hold=False))
    release.set()
    outcomes = [finish(*holder), finish(*waiter)]

    assert "error" not in outcomes[0]
    assert "pallet_lines_within_packout" in str(outcomes[1]["error"]) or "pallet_lines" in str(outcomes[1]["error"])
    total = finish(*start_in_thread(gs1.company, lambda: sum(PalletLine.objects.values_list("kg", flat=True))))
    assert total["value"] == Decimal("2000.00")
