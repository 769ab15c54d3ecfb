"""Property: on random data, the SQL report equals a slow, plain-Python reading of the rules.

Each example writes its growers, packhouses, prices, pools (open and
closed, variety and blank, with income, reversing entries and charges),
batches and payments (some against pools) with bulk inserts inside a
transaction that is rolled back, so every example starts from acme's empty
tables. A closed pool's members are written to pool_batches as closing
would; an open pool has none, so its batches keep the price agreements.
"""

import datetime as dt
import tempfile
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal, localcontext

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir

from batches.models import Batch
from growers.models import Grower
from packhouses.models import Packhouse
from payments.models import GrowerPayment, PriceAgreement
from pools.models import ChargeBasis, ChargeRule, Pool, PoolBatch, PoolIncome
from reconciliation.report import reconcile
from seasons.models import Season

from .helpers import SAST

pytestmark = pytest.mark.django_db

# Hypothesis keeps a cache (.hypothesis/) in the working directory; keep it out of the source tree.
set_hypothesis_home_dir(tempfile.mkdtemp(prefix="hypothesis-"))

GROWERS = ("P1", "P2", "P3")
PACKHOUSES = ("H1", "H2")
FRUITS = ("apple", "pear")
VARIETIES = ("Gala", "Fuji")
GRADES = ("class1", "class2", "class3", "ungraded")
PAYMENT_TYPES = ("advance", "final", "deduction", "adjustment")
FIRST_DAY = dt.date(2026, 3, 1)
CENT = Decimal("0.01")

money = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("40000"), places=2)
# Mostly some kg, one time in four none (a class with 0 kg needs no price).
kg = st.tuples(st.integers(0, 3), st.decimals(min_value=Decimal("0.01"), max_value=Decimal("3000"), places=2)).map(
    lambda pair: pair[1] if pair[0] else Decimal(0))
per_kg = st.decimals(min_value=Decimal("0.0001"), max_value=Decimal("30"), places=4)


def intake_times(date_from, date_to):
    """Mostly a minute inside the period; else one from the day before to the day after it, or one near a
    local midnight (where the UTC date and the local date differ)."""
    start = dt.datetime.combine(date_from, dt.time(0, 0), tzinfo=SAST)
    days = (date_to - date_from).days + 1

    def minute(first, count):
        return st.integers(0, count * 24 * 60 - 1).map(lambda m: start + dt.timedelta(days=first, minutes=m))

    near_midnight = st.builds(
        lambda day, minutes: start + dt.timedelta(days=day, minutes=minutes),
        st.integers(0, days), st.sampled_from([-121, -90, -31, -1, 0, 1, 30, 119, 121]),
    )
    return st.one_of(minute(0, days), minute(0, days), minute(-1, days + 2), near_midnight)


@st.composite
def price_agreements(draw):
    """Per fruit, variety (blank or one) and grade: none, one, or two back-to-back agreements (never overlapping)."""
    agreements = []
    for fruit in FRUITS:
        for variety in ("", "Gala"):
            for grade in GRADES:
                shape = draw(st.sampled_from(["open", "change", "open", "ends", "none"]))
                if shape == "none":
                    continue
                start = FIRST_DAY + dt.timedelta(days=draw(st.integers(-3, 4)))
                if shape == "open":
                    agreements.append((fruit, variety, grade, start, None, draw(per_kg)))
                else:
                    end = start + dt.timedelta(days=draw(st.integers(0, 6)))
                    agreements.append((fruit, variety, grade, start, end, draw(per_kg)))
                    if shape == "change":
                        agreements.append((fruit, variety, grade, end + dt.timedelta(days=1), None, draw(per_kg)))
    return agreements


@st.composite
def batches(draw, date_from, date_to):
    gross = draw(st.decimals(min_value=Decimal("100"), max_value=Decimal("5000"), places=2))
    tare = draw(st.decimals(min_value=Decimal("0"), max_value=gross - CENT, places=2))
    net = gross - tare
    packout = None
    if draw(st.integers(0, 2)):  # two in three have a pack-out
        # Four shares of the net weight, some of them zero, adding up to no more than it.
        quarter = (net / 4).quantize(CENT, rounding="ROUND_DOWN")
        packout = tuple(min(draw(kg), quarter) for _ in range(4))
        status = draw(st.sampled_from(["packed", "grading", "packing", "dispatched"]))
    else:
        status = draw(st.sampled_from(["received", "grading"]))
    if draw(st.integers(0, 7)) == 0:  # one in eight is rejected
        status = "rejected"
    return {
        "grower": draw(st.sampled_from(GROWERS)), "packhouse": draw(st.sampled_from(PACKHOUSES)),
        "fruit_type": draw(st.sampled_from(FRUITS)), "variety": draw(st.sampled_from(VARIETIES)),
        "intake_date": draw(intake_times(date_from, date_to)), "gross": gross, "tare": tare,
        "packout": packout, "status": status, "pool": draw(st.integers(0, 3)),  # an index into the pools
    }


@st.composite
def payments(draw):
    payment_type = draw(st.sampled_from(PAYMENT_TYPES))
    amount = draw(money)
    if payment_type == "adjustment" and draw(st.booleans()):
        amount = -amount
    return {
        "grower": draw(st.sampled_from(GROWERS)), "payment_type": payment_type, "amount": amount,
        "paid_date": FIRST_DAY + dt.timedelta(days=draw(st.integers(-3, 13))),
        "pool": draw(st.sampled_from([None, None, 0, 1])),  # advances, finals, deductions against a pool
    }


@st.composite
def pools(draw):
    """Up to three pools, one per fruit and variety (blank or one), open or closed, with income per grade (a
    mistake and its reversal among it) and charges (which the report never reads: the run's payments carry them).
    """
    kinds = draw(st.lists(st.sampled_from([(f, v) for f in FRUITS for v in ("", "Gala")]), max_size=3, unique=True))
    made = []
    for fruit, variety in kinds:
        income = [(grade, amount, None) for grade, amount in draw(st.lists(
            st.tuples(st.sampled_from(GRADES[:3]), money), max_size=4))]
        if income and draw(st.booleans()):
            grade, amount, _ = income[0]
            income.append((grade, -amount, 0))  # reverses entry 0
        made.append({
            "fruit_type": fruit, "variety": variety, "closed": draw(st.integers(0, 3)) > 0, "income": income,
            "charges": draw(st.lists(st.sampled_from(ChargeBasis.values), max_size=2)),
        })
    return made


@st.composite
def worlds(draw):
    date_from = FIRST_DAY + dt.timedelta(days=draw(st.integers(0, 3)))
    date_to = date_from + dt.timedelta(days=draw(st.integers(0, 7)))
    return {
        "prices": draw(price_agreements()),
        "pools": draw(pools()),
        "batches": draw(st.lists(batches(date_from, date_to), min_size=6, max_size=16)),
        "payments": draw(st.lists(payments(), max_size=8)),
        "date_from": date_from,
        "date_to": date_to,
        "grower": draw(st.sampled_from([None, None, None, "P2"])),
        "packhouse": draw(st.sampled_from([None, None, None, "H1"])),
        "fruit_type": draw(st.sampled_from([None, None, None, "apple"])),
        "threshold_amount": draw(st.sampled_from([None, Decimal("0"), Decimal("50.00"), Decimal("2500")])),
        "threshold_percent": draw(st.sampled_from([None, Decimal("0"), Decimal("5"), Decimal("40.5")])),
    }


# --- the slow reading of the rules -----------------------------------------------------------


def round_cents(value):
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def price_of(prices, fruit, variety, grade, day):
    """The variety's own agreement in force that day, else the blank variety's, else None."""
    for wanted in (variety, ""):
        for p_fruit, p_variety, p_grade, start, end, price in prices:
            if (p_fruit, p_variety, p_grade) == (fruit, wanted, grade) and start <= day and (end is None or day <= end):
                return price
    return None


def pool_of(world, batch):
    """The index of the closed pool holding the batch, or None (written so by write())."""
    index = batch["pool"]
    if index < len(world["pools"]) and world["pools"][index]["fruit_type"] == batch["fruit_type"]:
        return index if world["pools"][index]["closed"] else None
    return None


def pool_rates(world, index):
    """grade -> income / kg of the pool's members that are not rejected; None without kg or without income."""
    pool = world["pools"][index]
    rates = {}
    for n, grade in enumerate(GRADES[:3]):
        kg = sum((b["packout"][n] for b in world["batches"]
                  if pool_of(world, b) == index and b["status"] != "rejected" and b["packout"]), Decimal(0))
        income = sum((amount for g, amount, _ in pool["income"] if g == grade), Decimal(0))
        rates[grade] = (income, kg) if kg and income else None
    return rates


def pool_value_of(world, index, batch):
    """(value, unpriced) of a batch in a closed pool: Σ class kg × income / kg; without pack-out, unpriced."""
    if batch["status"] == "rejected":
        return Decimal(0), False
    if batch["packout"] is None:
        return None, True
    rates = pool_rates(world, index)
    needs = [(grade, amount) for grade, amount in zip(GRADES[:3], batch["packout"][:3], strict=True) if amount > 0]
    if any(rates[grade] is None for grade, _ in needs):
        return None, True
    with localcontext() as context:
        context.prec = 60
        return sum((amount * rates[grade][0] / rates[grade][1] for grade, amount in needs), Decimal(0)), False


def value_of(prices, batch):
    """(value, unpriced) of one batch."""
    if batch["status"] == "rejected":
        return Decimal(0), False
    day = batch["intake_date"].astimezone(SAST).date()
    if batch["packout"] is None:
        needs = [("ungraded", batch["gross"] - batch["tare"])]
    else:
        needs = [(grade, amount) for grade, amount in zip(GRADES[:3], batch["packout"][:3], strict=True) if amount > 0]
    found = [(amount, price_of(prices, batch["fruit_type"], batch["variety"], grade, day)) for grade, amount in needs]
    if any(price is None for _, price in found):
        return None, True
    return sum((amount * price for amount, price in found), Decimal(0)), False


def expected_rows(world, company):
    date_from, date_to = world["date_from"], world["date_to"]
    amount, percent = world["threshold_amount"], world["threshold_percent"]
    if amount is None and percent is None:
        amount, percent = company.variance_threshold_amount, company.variance_threshold_percent
    narrowed = world["packhouse"] is not None or world["fruit_type"] is not None

    rows = defaultdict(lambda: defaultdict(Decimal))
    for batch in world["batches"]:
        day = batch["intake_date"].astimezone(SAST).date()
        if not date_from <= day <= date_to:
            continue
        if world["grower"] not in (None, batch["grower"]) or world["packhouse"] not in (None, batch["packhouse"]):
            continue
        if world["fruit_type"] not in (None, batch["fruit_type"]):
            continue
        row = rows[batch["grower"]]
        pool = pool_of(world, batch)
        if pool is None:
            value, unpriced = value_of(world["prices"], batch)
        else:
            value, unpriced = pool_value_of(world, pool, batch)
        if batch["status"] == "rejected":
            row["rejected_batches"] += 1
            continue
        row["batches"] += 1
        row["net_kg"] += batch["gross"] - batch["tare"]
        row["packed_kg"] += sum(batch["packout"][:3]) if batch["packout"] else 0
        row["unpriced_batches"] += unpriced
        # Rounded once over the agreement-priced batches, once per closed pool over its batches (settlement's
        # gross): kept apart until then.
        row[("value", pool)] += value or 0
    for payment in world["payments"]:
        if not date_from <= payment["paid_date"] <= date_to or world["grower"] not in (None, payment["grower"]):
            continue
        if narrowed and payment["grower"] not in rows:
            continue
        row = rows[payment["grower"]]
        row[f"paid_{payment['payment_type']}"] += payment["amount"]
        row["total_paid"] += payment["amount"]

    result = {}
    for code, row in rows.items():
        expected = sum((round_cents(amount) for key, amount in row.items() if key[0] == "value"), Decimal("0.00"))
        balance = expected - row["total_paid"]
        variance = round_cents(balance * 100 / expected) if expected else None
        flagged = (amount is not None and abs(balance) > amount) or (
            percent is not None and balance != 0 and (variance is None or abs(variance) > percent)
        )
        result[code] = {
            "batches": row["batches"], "rejected_batches": row["rejected_batches"],
            "unpriced_batches": row["unpriced_batches"], "net_kg": row["net_kg"], "packed_kg": row["packed_kg"],
            "expected_value": expected, "paid_advance": row["paid_advance"], "paid_final": row["paid_final"],
            "paid_deduction": row["paid_deduction"], "paid_adjustment": row["paid_adjustment"],
            "total_paid": row["total_paid"], "balance": balance, "variance_percent": variance, "flagged": flagged,
        }
    return result


# --- writing a world -----------------------------------------------------------------------


def write(world):
    growers = {g.code: g for g in Grower.objects.bulk_create([Grower(code=c, name=f"Farm {c}") for c in GROWERS])}
    packhouses = {p.code: p for p in Packhouse.objects.bulk_create([Packhouse(code=c, name=c) for c in PACKHOUSES])}
    PriceAgreement.objects.bulk_create([
        PriceAgreement(fruit_type=f, variety=v, grade=g, valid_from=start, valid_to=end, price_per_kg=price)
        for f, v, g, start, end, price in world["prices"]
    ])
    season = Season.objects.order_by("start_date").first()
    pools_made = Pool.objects.bulk_create([
        Pool(season=season, code=f"PP{n}", name=f"Pool {n}", fruit_type=p["fruit_type"], variety=p["variety"],
             status="closed" if p["closed"] else "open", closed_at=timezone.now() if p["closed"] else None)
        for n, p in enumerate(world["pools"])
    ])
    for pool, spec in zip(pools_made, world["pools"], strict=True):
        entries = []
        for n, (grade, amount, reverses) in enumerate(spec["income"]):
            entries.append(PoolIncome.objects.create(
                pool=pool, grade=grade, amount=amount, received_on=FIRST_DAY, reference=f"{pool.code}-{n}",
                reason="Reversed" if amount < 0 else "", reverses=None if reverses is None else entries[reverses]))
        ChargeRule.objects.bulk_create([
            ChargeRule(pool=pool, name=basis, kind="other", basis=basis, rate=Decimal("1.5"))
            for basis in spec["charges"]
        ])
    made = []
    for n, b in enumerate(world["batches"]):
        c1, c2, c3, waste = b["packout"] or (None,) * 4
        made.append(Batch(
            batch_code=f"T-{n:04d}", grower=growers[b["grower"]], packhouse=packhouses[b["packhouse"]],
            fruit_type=b["fruit_type"], variety=b["variety"], harvest_date=dt.date(2026, 2, 20),
            intake_date=b["intake_date"], bin_count=1, gross_weight_kg=b["gross"], tare_weight_kg=b["tare"],
            class1_kg=c1, class2_kg=c2, class3_kg=c3, waste_kg=waste, status=b["status"],
            rejection_reason="Decay" if b["status"] == "rejected" else "",
        ))
    Batch.objects.bulk_create(made)
    # What closing writes: the closed pools' members (the report reads pool_batches, not the pool's rule).
    PoolBatch.objects.bulk_create([PoolBatch(pool=pools_made[pool_of(world, b)], batch=batch)
                                   for b, batch in zip(world["batches"], made, strict=True)
                                   if pool_of(world, b) is not None])
    GrowerPayment.objects.bulk_create([
        GrowerPayment(grower=growers[p["grower"]], payment_type=p["payment_type"], amount=p["amount"],
                      paid_date=p["paid_date"], reference=f"R-{n:04d}",
                      pool=pools_made[p["pool"]] if p["pool"] is not None and p["pool"] < len(pools_made) else None)
        for n, p in enumerate(world["payments"])
    ])
    return growers, packhouses


@hypothesis_settings(
    max_examples=30, deadline=None, derandomize=True, database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(world=worlds())
def test_report_equals_a_plain_python_reading_of_the_rules(acme, world):
    with acme, transaction.atomic():
        try:
            growers, packhouses = write(world)
            report = reconcile(
                world["date_from"], world["date_to"],
                grower=growers[world["grower"]] if world["grower"] else None,
                packhouse=packhouses[world["packhouse"]] if world["packhouse"] else None,
                fruit_type=world["fruit_type"], threshold_amount=world["threshold_amount"],
                threshold_percent=world["threshold_percent"],
            )
            expected = expected_rows(world, acme.company)
        finally:
            transaction.set_rollback(True)

    got = {row.grower_code: {name: getattr(row, name) for name in expected.get(row.grower_code, {})}
           for row in report.rows}
    assert got == expected
    assert [row.grower_code for row in report.rows] == sorted(expected)
    assert report.totals.growers == len(expected)
    assert report.totals.expected_value == sum((r["expected_value"] for r in expected.values()), Decimal(0))
    assert report.totals.balance == sum((r["balance"] for r in expected.values()), Decimal(0))
    assert report.totals.flagged_growers == sum(r["flagged"] for r in expected.values())
