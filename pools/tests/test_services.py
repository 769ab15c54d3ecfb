from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction

from core.errors import Conflict
from core.tenancy import company_today
from growers.tests.factories import GrowerFactory
from packhouses.tests.factories import PackhouseFactory
from payments import services as payment_services
from pools import services
from pools.membership import member_batches
from pools.models import ChargeRule, PoolBatch, PoolHistory, PoolIncome

from .helpers import make_pool, packed

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def farm(acme):
    with acme:
        return GrowerFactory(code="GV001"), PackhouseFactory()


def test_a_variety_pool_beats_a_blank_one(acme, farm):
    grower, packhouse = farm
    with acme:
        gala = packed(grower, packhouse, net=1000, class1=900, class2=0, variety="Gala")
        fuji = packed(grower, packhouse, net=1000, class1=900, class2=0, variety="Fuji")
        pear = packed(grower, packhouse, net=1000, class1=900, class2=0, variety="Gala", fruit_type="pear")
        blank = make_pool("P-ALL")
        gala_pool = make_pool("P-GALA", variety="Gala")

        assert set(member_batches(blank)) == {fuji}
        assert set(member_batches(gala_pool)) == {gala}
        assert pear not in set(member_batches(blank))


def test_one_pool_per_season_fruit_and_variety(acme):
    with acme:
        make_pool("P-ONE", variety="Gala")
        with pytest.raises(ValidationError) as error:
            make_pool("P-TWO", variety="Gala")
    assert "already has a pool" in str(error.value)


def test_closing_fixes_membership_writes_history_and_is_refused_twice(acme, farm):
    grower, packhouse = farm
    with acme:
        batch = packed(grower, packhouse, net=1000, class1=900, class2=0)
        pool = make_pool()
        closed = services.close_pool(pool)
        assert (closed.status, list(PoolBatch.objects.values_list("batch_id", flat=True))) == ("closed", [batch.pk])
        assert PoolHistory.objects.filter(pool=pool, event="closed", payload__batches=1).exists()
        later = packed(grower, packhouse, net=1000, class1=900, class2=0)
        assert set(member_batches(closed)) == {batch}  # a closed pool takes no new batch
        with pytest.raises(Conflict):
            services.close_pool(closed)
        with pytest.raises(ValidationError):
            services.record_income(closed, grade="class1", amount=D("1"), received_on=company_today(), reference="R")
        with pytest.raises(ValidationError):
            services.add_charge_rule(closed, name="Late", kind="levy", basis="per_kg_received", rate=D("1"))
        with pytest.raises(ValidationError) as error:
            payment_services.record_payment(grower=grower, payment_type="advance", amount=D("5"), reference="A-1",
                                            paid_date=company_today(), pool=closed)
        assert "pool" in error.value.message_dict
    assert later.pk != batch.pk


def test_closing_is_refused_when_another_pool_holds_a_batch(acme, farm):
    grower, packhouse = farm
    with acme:
        batch = packed(grower, packhouse, net=1000, class1=900, class2=0, variety="Gala")
        blank = make_pool("P-ALL")
        services.close_pool(blank)  # takes the Gala batch: no Gala pool then
        gala_pool = make_pool("P-GALA", variety="Gala")
        with pytest.raises(ValidationError) as error:
            services.close_pool(gala_pool)
        gala_pool.refresh_from_db()
    assert batch.batch_code in str(error.value) and "P-ALL" in str(error.value)
    assert gala_pool.status == "open"


def test_the_database_refuses_a_batch_in_two_pools(acme, farm):
    grower, packhouse = farm
    with acme:
        batch = packed(grower, packhouse, net=1000, class1=900, class2=0)
        one, two = make_pool("P-A", variety="Gala"), make_pool("P-B")
        PoolBatch.objects.create(pool=one, batch=batch)
        with pytest.raises(IntegrityError), transaction.atomic():
            PoolBatch.objects.create(pool=two, batch=batch)


def test_income_is_append_only_and_a_mistake_is_a_reversing_entry(acme):
    with acme:
        pool = make_pool()
        entry = services.record_income(pool, grade="class1", amount=D("100.00"), received_on=company_today(),
                                       reference="MR-1")
        for sql in ("UPDATE pool_income SET amount = 1", "DELETE FROM pool_income"):
            with pytest.raises(Exception, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(sql)
        with pytest.raises(ValidationError) as error:
            services.record_income(pool, grade="class1", amount=D("-5.00"), received_on=company_today(),
                                   reference="MR-1")
        assert "reason" in error.value.message_dict
        reversal = services.reverse_income(entry, reason="Wrong pool")
        assert (reversal.amount, reversal.reverses_id) == (D("-100.00"), entry.pk)
        with pytest.raises(Conflict):
            services.reverse_income(entry, reason="Again")
        assert sum(PoolIncome.objects.values_list("amount", flat=True)) == 0


@pytest.mark.parametrize(("basis", "rate", "field"), [
    ("per_kg_packed", D("0"), "rate"), ("per_kg_packed", D("-1"), "rate"),
    ("percent_of_income", D("100.01"), "rate"), ("per_pallet", D("1"), None),
])
def test_charge_rates(acme, basis, rate, field):
    with acme:
        pool = make_pool()
        if field is None:
            services.add_charge_rule(pool, name="Ok", kind="other", basis=basis, rate=rate)
            return
        with pytest.raises(ValidationError) as error:
            services.add_charge_rule(pool, name="Bad", kind="other", basis=basis, rate=rate)
    assert field in error.value.message_dict


@pytest.mark.parametrize("rate", [D("0"), D("150")])
def test_the_database_checks_charge_rates(acme, rate):
    with acme:
        pool = make_pool()
        with pytest.raises(IntegrityError), transaction.atomic():
            ChargeRule.objects.create(pool=pool, name="Raw", kind="levy", basis="percent_of_income", rate=rate)


def test_a_reversed_advance_stays_on_its_pool(acme, farm):
    grower, _ = farm
    with acme:
        pool = make_pool()
        advance = payment_services.record_payment(grower=grower, payment_type="advance", amount=D("500.00"),
                                                  reference="ADV-1", paid_date=company_today(), pool=pool)
        reversal = payment_services.reverse_payment(advance, reason="Wrong grower")
    assert reversal.pool_id == pool.pk


def test_a_batch_in_a_closed_pool_cannot_be_corrected_one_in_an_open_pool_can(acme, farm):
    from batches import services as batch_services

    grower, packhouse = farm
    with acme:
        batch = packed(grower, packhouse, net=1000, class1=900, class2=0)
        pool = make_pool("P-HOOK")
        corrected = batch_services.correct_batch(batch, {"notes": "open pool: still correctable"}, reason="r")
        assert corrected.notes == "open pool: still correctable"

        services.close_pool(pool)
        with pytest.raises(ValidationError, match="closed pool P-HOOK"):
            batch_services.correct_batch(corrected, {"notes": "too late"}, reason="r")
        corrected.refresh_from_db()
    assert corrected.notes == "open pool: still correctable"
