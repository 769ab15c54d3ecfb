import json
import re
from collections import Counter, defaultdict
from datetime import timedelta
from decimal import Decimal
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command, load_command_class
from django.db import connection
from django.db.models import Count, F, Max
from django.utils import timezone

from batches import services
from batches.models import Batch, BatchCodeCounter, BatchHistory, Status
from core.tenancy import company_date, company_today
from demo.bulk import copy_json, copy_text
from growers.models import FruitType, Grower
from packhouses.models import Packhouse
from payments.models import GrowerPayment, PaymentType, PriceAgreement

pytestmark = pytest.mark.django_db

SMALL = ("--schema", "acme", "--batches", "300", "--growers", "10", "--packhouses", "2", "--seed", "7")
CODE = re.compile(r"^(PH\d+)-(\d{8})-(\d{4})$")


def seed(*args):
    out = StringIO()
    call_command("seed_demo", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


@pytest.fixture
def seeded(acme):
    output = seed(*SMALL)
    return acme, output


def test_seeds_the_requested_counts_and_says_so(seeded):
    acme, output = seeded
    with acme:
        assert Batch.objects.count() == 300
        assert sorted(Packhouse.objects.values_list("code", flat=True)) == ["PH1", "PH2"]
        growers = list(Grower.objects.all())
        assert [g.code for g in growers] == [f"G{n:04d}" for n in range(1, 11)]
        assert all(g.name and g.contact_name and "@" in g.email and g.phone and g.region for g in growers)
        assert any(g.ggn for g in growers) and all(re.fullmatch(r"\d{13}", g.ggn) for g in growers if g.ggn)
        assert [g.code for g in growers if not g.active] == ["G0009"]
        assert set(Batch.objects.values_list("fruit_type", flat=True)) == set(FruitType.values)
        assert BatchHistory.objects.count() >= 300
        assert GrowerPayment.objects.exists()
        today = company_today()
        dates = [company_date(d) for d in Batch.objects.values_list("intake_date", flat=True)]
        assert today - timedelta(days=365) < min(dates) and max(dates) <= today
        assert Batch.objects.filter(intake_date__gt=timezone.now()).count() == 0
    assert "300 batches" in output and "now has 2 packhouses, 10 growers" in output


def test_weights_and_varieties_are_plausible(seeded):
    acme, _ = seeded
    with acme:
        for batch in Batch.objects.all():
            assert 5 <= batch.bin_count <= 40
            assert 350 <= batch.gross_weight_kg / batch.bin_count <= 450
            assert 38 <= batch.tare_weight_kg / batch.bin_count <= 60
            assert batch.net_weight_kg == batch.gross_weight_kg - batch.tare_weight_kg > 0
            assert batch.harvest_date <= company_date(batch.intake_date)
        varieties = defaultdict(set)
        for fruit, variety in Batch.objects.values_list("fruit_type", "variety"):
            varieties[fruit].add(variety)
        assert varieties["kiwifruit"] == {"Hayward"}
        assert varieties["avocado"] <= {"Hass", "Fuerte", "Pinkerton", "Ryan"}


def test_every_batch_has_a_plausible_history(seeded):
    acme, _ = seeded
    with acme:
        history = defaultdict(list)
        for row in BatchHistory.objects.order_by("recorded_at", "id"):
            history[row.batch_id].append(row)
        for batch in Batch.objects.select_related("grower", "packhouse"):
            rows = history[batch.id]
            created = rows[0]
            assert (created.event, created.from_status, created.to_status) == ("created", "", "received")
            assert created.payload == {
                "batch_code": batch.batch_code, "grower": batch.grower.code, "packhouse": batch.packhouse.code,
                "bin_count": batch.bin_count, "gross_weight_kg": str(batch.gross_weight_kg),
                "tare_weight_kg": str(batch.tare_weight_kg),
            }
            assert all(row.recorded_at > batch.intake_date for row in rows)
            assert all(row.recorded_at <= timezone.now() for row in rows)
            assert batch.version == len(rows)
            assert batch.created_at == created.recorded_at and batch.updated_at == rows[-1].recorded_at
            moves = [(r.from_status, r.to_status) for r in rows if r.event == "status_changed"]
            path = ["received"] + [to for _, to in moves]
            assert all(a == b for (a, _), b in zip(moves, path, strict=False))  # each move starts where the last ended
            assert path[-1] == batch.status
            packouts = [r for r in rows if r.event == "packout"]
            assert len(packouts) == (1 if batch.has_packout else 0)
            if packouts:
                assert packouts[0].payload == {name: str(getattr(batch, name)) for name in
                                               ("class1_kg", "class2_kg", "class3_kg", "waste_kg")}
            if batch.status == Status.REJECTED:
                assert moves[-1][1] == "rejected" and rows[-1].payload == {"reason": batch.rejection_reason}


def test_packouts_statuses_and_rejections(seeded):
    acme, _ = seeded
    with acme:
        batches = list(Batch.objects.all())
        assert all(b.packout_kg <= b.net_weight_kg for b in batches if b.has_packout)
        assert all(b.has_packout for b in batches if b.status in (Status.PACKED, Status.DISPATCHED))
        assert all(b.rejection_reason for b in batches if b.status == Status.REJECTED)
        assert not any(b.has_packout for b in batches if b.status in (Status.RECEIVED, Status.REJECTED))
        two_weeks_ago = timezone.now() - timedelta(days=14)
        old = Counter(b.status for b in batches if b.intake_date < two_weeks_ago)
        assert set(old) <= {Status.PACKED, Status.DISPATCHED, Status.REJECTED}
        assert old[Status.DISPATCHED] > sum(old.values()) * 0.8
        assert Counter(b.status for b in batches)[Status.REJECTED] < len(batches) * 0.1


def test_codes_follow_the_services_format_and_counters_agree(seeded):
    acme, _ = seeded
    with acme:
        codes = list(Batch.objects.values_list("batch_code", "packhouse__code", "intake_date"))
        assert len({code for code, _, _ in codes}) == len(codes)
        per_day = defaultdict(list)
        for code, packhouse, intake in codes:
            match = CODE.match(code)
            assert match, code
            assert match[1] == packhouse and match[2] == f"{company_date(intake):%Y%m%d}"
            per_day[(packhouse, match[2])].append(int(match[3]))
        counters = {(c.packhouse.code, f"{c.day:%Y%m%d}"): c.last for c in BatchCodeCounter.objects.select_related(
            "packhouse")}
        assert counters == {key: max(numbers) for key, numbers in per_day.items()}
        assert all(sorted(numbers) == list(range(1, len(numbers) + 1)) for numbers in per_day.values())
        # Numbers follow the intake time within a day, as record_intake would have given them.
        latest = Batch.objects.order_by("-intake_date").first()
        day_prefix = latest.batch_code.rsplit("-", 1)[0]  # PH1-20260212
        same_day = Batch.objects.filter(batch_code__startswith=f"{day_prefix}-")
        assert [b.batch_code for b in same_day.order_by("intake_date")] == sorted(b.batch_code for b in same_day)

        # A clerk's next intake that day carries on from the seed, without a collision.
        grower = Grower.objects.filter(active=True).first()
        batch = services.record_intake(
            grower=grower, packhouse=latest.packhouse, fruit_type="apple", variety="Gala",
            harvest_date=company_date(latest.intake_date), bin_count=10, gross_weight_kg=Decimal("4000.00"),
            tare_weight_kg=Decimal("450.00"), intake_date=latest.intake_date + timedelta(seconds=1),
        )
        last = counters[(latest.packhouse.code, day_prefix[-8:])]
        assert batch.batch_code == f"{day_prefix}-{last + 1:04d}"
        assert BatchCodeCounter.objects.get(packhouse=latest.packhouse, day=company_date(latest.intake_date)).last == (
            last + 1)


def _shapes(history):
    """{(event, from, to): {(payload key, value type), ...}} for each shape a history row has."""
    shapes = defaultdict(set)
    for row in history:
        shapes[(row.event, row.from_status, row.to_status)].add(
            tuple(sorted((key, type(value).__name__) for key, value in row.payload.items()))
        )
    return shapes


def test_seeded_history_has_the_shape_the_services_write(seeded):
    acme, _ = seeded
    with acme:
        seeded_ids = list(Batch.objects.values_list("pk", flat=True))
        grower, packhouse = Grower.objects.filter(active=True).first(), Packhouse.objects.get(code="PH1")

        def intake():
            return services.record_intake(
                grower=grower, packhouse=packhouse, fruit_type="apple", variety="Gala", harvest_date=company_today(),
                bin_count=10, gross_weight_kg=Decimal("4000.00"), tare_weight_kg=Decimal("450.00"),
            )

        # Every path the seed writes, through the services.
        dispatched = intake()
        services.transition(dispatched, Status.GRADING)
        services.transition(dispatched, Status.PACKING)
        services.record_packout(dispatched, class1_kg=Decimal("3000.00"), class2_kg=Decimal("300.00"),
                                class3_kg=Decimal("100.50"), waste_kg=Decimal("50.00"))
        services.transition(dispatched, Status.PACKED)
        dispatched = services.transition(dispatched, Status.DISPATCHED)
        services.transition(intake(), Status.REJECTED, reason="Sunburn above tolerance")
        services.transition(services.transition(intake(), Status.GRADING), Status.REJECTED, reason="Decay found")

        made = _shapes(BatchHistory.objects.exclude(batch_id__in=seeded_ids))
        seeded_shapes = _shapes(BatchHistory.objects.filter(batch_id__in=seeded_ids))
        assert {event for event, _, _ in seeded_shapes} == {"created", "status_changed", "packout"}
        assert all(len(shapes) == 1 for shapes in made.values()), made
        assert {key: made.get(key) for key in seeded_shapes} == seeded_shapes
        # The seed's version counts the history rows, as the services' does.
        assert dispatched.version == dispatched.history.count() == 6
        assert CODE.match(dispatched.batch_code)


def test_payload_and_text_escaping_survive_copy(acme):
    text = 'A tab\there, "quotes", a back\\slash, a new\nline, \\N, Môrewag ✓'
    payload = {"reason": text, "nested": {"list": [1, None, text]}}
    with acme, connection.cursor() as cursor:
        cursor.execute("CREATE TEMP TABLE copied (note text, payload jsonb)")
        with cursor.cursor.copy("COPY copied (note, payload) FROM STDIN") as copy:
            copy.write(f"{copy_text(text)}\t{copy_json(payload)}\n")
        cursor.execute("SELECT note, payload::text FROM copied")
        note, stored = cursor.fetchone()
    assert note == text and json.loads(stored) == payload


def test_times_and_codes_are_in_the_companys_time_zone(acme):
    from tenants.models import Company

    Company.objects.filter(pk=acme.company.pk).update(time_zone="Pacific/Auckland")  # 11-13 hours ahead of UTC
    seed("--schema", "acme", "--batches", "150", "--growers", "5", "--packhouses", "1", "--seed", "1")
    auckland = ZoneInfo("Pacific/Auckland")
    with acme:
        for code, intake in Batch.objects.values_list("batch_code", "intake_date"):
            local = intake.astimezone(auckland)
            assert code.split("-")[1] == f"{local:%Y%m%d}"
            assert 6 <= local.hour < 18  # the working day, local time
        today = timezone.now().astimezone(auckland).date()
        assert max(c.day for c in BatchCodeCounter.objects.all()) <= today


def test_prices_cover_every_fruit_and_grade_without_overlap(seeded):
    acme, _ = seeded
    with acme:
        agreements = list(PriceAgreement.objects.all())
        blank = {(a.fruit_type, a.grade) for a in agreements if not a.variety}
        assert blank == {(f, g) for f in FruitType.values for g in ("class1", "class2", "class3", "ungraded")}
        assert {a.variety for a in agreements if a.variety} >= {"Pink Lady", "Hass", "Crimson Seedless"}
        # One price change mid-season: two consecutive agreements per fruit and grade.
        apple = sorted((a for a in agreements if a.fruit_type == "apple" and a.grade == "class1" and not a.variety),
                       key=lambda a: a.valid_from)
        assert len(apple) == 2 and apple[0].valid_to + timedelta(days=1) == apple[1].valid_from
        assert apple[1].valid_to is None and apple[0].price_per_kg != apple[1].price_per_kg
        assert PriceAgreement.objects.filter(price_per_kg__lte=0).count() == 0


def _values(agreements, batches):
    """What each grower's fruit is worth: pack-out by class, or net kg ungraded; variety beats blank."""
    by_key = defaultdict(list)
    for a in agreements:
        by_key[(a.fruit_type, a.variety, a.grade)].append(a)

    def price(batch, grade):
        day = company_date(batch.intake_date)
        for variety in (batch.variety, ""):
            for a in by_key[(batch.fruit_type, variety, grade)]:
                if a.valid_from <= day and (a.valid_to is None or day <= a.valid_to):
                    return a.price_per_kg
        raise AssertionError(f"{batch} is unpriced")

    values = defaultdict(Decimal)
    for batch in batches:
        if batch.status == Status.REJECTED:
            continue
        if batch.has_packout:
            worth = sum(getattr(batch, f"{grade}_kg") * price(batch, grade) for grade in ("class1", "class2", "class3"))
        else:
            worth = batch.net_weight_kg * price(batch, "ungraded")
        values[batch.grower_id] += worth
    return values


def test_payments_leave_some_growers_under_and_some_over_paid(seeded):
    acme, _ = seeded
    with acme:
        payments = list(GrowerPayment.objects.all())
        types = Counter(p.payment_type for p in payments)
        assert types[PaymentType.ADVANCE] and types[PaymentType.FINAL]
        assert all(p.amount > 0 for p in payments)
        assert len({p.reference for p in payments}) == len(payments)
        assert all(p.paid_date <= company_today() for p in payments)
        values = _values(PriceAgreement.objects.all(), Batch.objects.all())
        paid = defaultdict(Decimal)
        for p in payments:
            paid[p.grower_id] += p.amount
        ratios = {grower: paid[grower] / value for grower, value in values.items()}
        assert any(r < Decimal("0.95") for r in ratios.values()), ratios
        assert any(r > Decimal("1.05") for r in ratios.values()), ratios
        assert any(Decimal("0.95") <= r <= Decimal("1.05") for r in ratios.values()), ratios


def test_explicit_payment_count(acme):
    seed("--schema", "acme", "--batches", "200", "--growers", "8", "--packhouses", "1", "--payments", "40",
         "--seed", "3")
    with acme:
        assert 30 <= GrowerPayment.objects.count() <= 40


def _snapshot():
    return {
        "batches": Batch.objects.count(), "history": BatchHistory.objects.count(),
        "growers": Grower.objects.count(), "packhouses": Packhouse.objects.count(),
        "prices": PriceAgreement.objects.count(), "payments": GrowerPayment.objects.count(),
        "counters": list(BatchCodeCounter.objects.order_by("packhouse_id", "day").values_list("last", flat=True)),
    }


def test_running_again_adds_nothing(seeded):
    acme, _ = seeded
    with acme:
        before = _snapshot()
    output = seed(*SMALL[:-1], "8")  # another seed changes nothing either
    with acme:
        assert _snapshot() == before
    assert "already has 300 batches" in output


def test_asking_for_more_adds_only_the_missing_batches(seeded):
    acme, _ = seeded
    with acme:
        before = _snapshot()
    seed("--schema", "acme", "--batches", "450", "--growers", "10", "--packhouses", "2")
    with acme:
        after = _snapshot()
        assert after["batches"] == 450
        assert after["growers"] == before["growers"] and after["packhouses"] == before["packhouses"]
        assert after["prices"] == before["prices"]
        assert after["payments"] > before["payments"]
        codes = Batch.objects.values_list("batch_code", flat=True)
        assert len(set(codes)) == 450
        # Counters still hold the highest number of each packhouse and day.
        highest = defaultdict(int)
        for code, packhouse_id in Batch.objects.values_list("batch_code", "packhouse_id"):
            key = (packhouse_id, code.split("-")[1])
            highest[key] = max(highest[key], int(code.split("-")[2]))
        assert {(c.packhouse_id, f"{c.day:%Y%m%d}"): c.last for c in BatchCodeCounter.objects.all()} == highest
        assert not Batch.objects.annotate(n=Count("history")).filter(n__lt=1).exists()
        assert not Batch.objects.annotate(last=Max("history__recorded_at")).exclude(updated_at=F("last")).exists()


def test_other_company_is_untouched(seeded, globex):
    with globex:
        assert Batch.objects.count() == 0
        assert BatchHistory.objects.count() == 0
        assert BatchCodeCounter.objects.count() == 0
        assert Grower.objects.count() == 0
        assert Packhouse.objects.count() == 0
        assert PriceAgreement.objects.count() == 0
        assert GrowerPayment.objects.count() == 0


@pytest.mark.parametrize(("args", "message"), [
    (("--schema", "nope"), "No company has the schema 'nope'. Companies: acme, globex."),
    (("--schema", "public"), "'public' is the platform's schema, not a company"),
    (("--schema", "acme", "--batches", "-5"), "--batches must be between 0 and 10 000 000, not -5."),
    (("--schema", "acme", "--growers", "0"), "--growers must be between 1 and 99 999, not 0."),
    (("--schema", "acme", "--packhouses", "100"), "--packhouses must be between 1 and 99, not 100."),
    (("--schema", "acme", "--payments", "-1"), "--payments must be between 0 and 1 000 000, not -1."),
    (("--schema", "acme", "--seed", "-1"), "--seed must be 0 or more, not -1."),
    (("--schema", "acme", "--batches", "lots"), "argument --batches: invalid int value: 'lots'"),
])
def test_bad_arguments_are_refused_with_a_clear_message(acme, args, message):
    with pytest.raises(CommandError) as error:
        seed(*args)
    assert message in str(error.value)
    with acme:
        assert Batch.objects.count() == 0 and Grower.objects.count() == 0


def test_help_explains_every_option():
    parser = load_command_class("demo", "seed_demo").create_parser("manage.py", "seed_demo")
    text = " ".join(parser.format_help().split())
    for option in ("--schema", "--batches", "--growers", "--packhouses", "--payments", "--seed"):
        assert option in text
    assert "default: demo" in text and "default: 20000" in text and "default: 120" in text
    assert "default: 3" in text and "about two per grower per month" in text and "repeatable" in text
    assert "Safe to run again" in text and "only the missing" in text
