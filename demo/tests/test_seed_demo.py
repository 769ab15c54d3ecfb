import json
import re
from collections import Counter, defaultdict
from datetime import timedelta
from decimal import Decimal
from io import StringIO
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command, load_command_class
from django.db import connection
from django.db.models import Count, F, Max
from django.utils import timezone
from stdnum import ean

from batches import records, services
from batches.models import (
    OPEN_STATUSES,
    Batch,
    BatchBin,
    BatchCodeCounter,
    BatchHistory,
    DefectType,
    QCDefect,
    QCInspection,
    QCResult,
    Status,
)
from core.tenancy import company_date, company_today
from demo.bulk import OPEN_DAYS, BinRing, copy_json, copy_text
from growers.models import Block, Farm, FruitType, Grower, SprayClearance
from growers.services import clearance_for, record_clearance
from packhouses.models import Packhouse
from payments.models import GrowerPayment, PaymentType, PriceAgreement
from seasons.models import Season
from seasons.services import season_for
from tenants.models import Company

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
        bins = defaultdict(list)
        for batch_id, code in BatchBin.objects.order_by("id").values_list("batch_id", "code"):
            bins[batch_id].append(code)
        for batch in Batch.objects.select_related("grower", "packhouse", "block__farm", "season"):
            rows = history[batch.id]
            created = rows[0]
            assert (created.event, created.from_status, created.to_status) == ("created", "", "received")
            # What record_intake writes for this batch.
            assert created.payload == records.created_payload(
                batch_code=batch.batch_code, grower_code=batch.grower.code, packhouse_code=batch.packhouse.code,
                bin_count=batch.bin_count, gross_weight_kg=batch.gross_weight_kg, tare_weight_kg=batch.tare_weight_kg,
                block=str(batch.block), season_code=batch.season.code, bins=bins[batch.id],
                without_clearance=batch.without_clearance,
            )
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
            qc = [r for r in rows if r.event == "qc"]
            assert len(qc) <= 1
            if qc:  # sampled while received, before any move
                assert rows[1] == qc[0] and (qc[0].from_status, qc[0].to_status) == ("", "")


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
        block = Block.objects.filter(active=True, farm__active=True, farm__grower__active=True).first()
        batch = services.record_intake(
            block=block, packhouse=latest.packhouse,
            harvest_date=company_date(latest.intake_date), bin_count=10, gross_weight_kg=Decimal("4000.00"),
            tare_weight_kg=Decimal("450.00"), intake_date=latest.intake_date + timedelta(seconds=1),
        )
        last = counters[(latest.packhouse.code, day_prefix[-8:])]
        assert batch.batch_code == f"{day_prefix}-{last + 1:04d}"
        assert BatchCodeCounter.objects.get(packhouse=latest.packhouse, day=company_date(latest.intake_date)).last == (
            last + 1)


def _shapes(history):
    """{(event, from, to, (payload key, value type), ...)} for each shape a history row has."""
    return {
        (row.event, row.from_status, row.to_status,
         tuple(sorted((key, type(value).__name__) for key, value in row.payload.items())))
        for row in history
    }


def test_seeded_history_has_the_shape_the_services_write(seeded):
    acme, _ = seeded
    with acme:
        seeded_ids = list(Batch.objects.values_list("pk", flat=True))
        packhouse = Packhouse.objects.get(code="PH1")
        season = season_for(company_today())
        cleared = Block.objects.filter(farm__grower__active=True, active=True, clearances__season=season).first()
        uncleared = Block.objects.filter(farm__grower__active=True, active=True).exclude(
            clearances__season=season).first()
        defects = list(DefectType.objects.filter(fruit_type__in=("", cleared.fruit_type))[:3])

        def intake(block=cleared, bins=()):
            return services.record_intake(
                block=block, packhouse=packhouse, harvest_date=company_today(), bins=bins,
                bin_count=None if bins else 10, tare_weight_kg=Decimal("450.00"),
                # 355 kg net a bin: within the usual range, so no confirmation (which the seed never writes).
                gross_weight_kg=Decimal("450.00") + Decimal("355.00") * (len(bins) or 10),
            )

        # Every path the seed writes, through the services.
        dispatched = intake()
        services.record_inspection(dispatched, sample_size=100, result=QCResult.PASS, defects={defects[0]: 2})
        services.transition(dispatched, Status.GRADING)
        services.transition(dispatched, Status.PACKING)
        services.record_packout(dispatched, class1_kg=Decimal("3000.00"), class2_kg=Decimal("300.00"),
                                class3_kg=Decimal("100.50"), waste_kg=Decimal("149.50"))
        services.transition(dispatched, Status.PACKED)
        dispatched = services.transition(dispatched, Status.DISPATCHED)
        services.transition(intake(bins=["ZZ-1", "ZZ-2"]), Status.REJECTED, reason="Sunburn above tolerance")
        services.transition(services.transition(intake(uncleared), Status.GRADING), Status.REJECTED,
                            reason="Decay found")
        services.record_inspection(intake(uncleared, bins=["ZZ-3"]), sample_size=50, result=QCResult.REJECT,
                                   defects={defects[0]: 20, defects[1]: 3})

        made = _shapes(BatchHistory.objects.exclude(batch_id__in=seeded_ids))
        seeded_shapes = _shapes(BatchHistory.objects.filter(batch_id__in=seeded_ids))
        assert {event for event, *_ in seeded_shapes} == {"created", "status_changed", "packout", "qc"}
        assert seeded_shapes <= made, seeded_shapes - made
        # The created row comes with and without bins, and with the clearance flag when the block had none.
        created = [dict(shape) for event, _, _, shape in seeded_shapes if event == "created"]
        assert any("bins" in shape for shape in created) and any("bins" not in shape for shape in created)
        assert any("without_clearance" in shape for shape in created)
        assert all(shape["block"] == shape["season"] == "str" for shape in created)
        # The seed's version counts the history rows, as the services' does.
        assert dispatched.version == dispatched.history.count() == 7
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
        assert {a.variety for a in agreements if a.variety} >= {"Cripps Pink", "Hass", "Crimson Seedless"}
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
        # --payments counts the plan's payments; the advances against pools (one per grower and pool) come on top.
        assert 30 <= GrowerPayment.objects.filter(pool__isnull=True).count() <= 40
        assert GrowerPayment.objects.filter(pool__isnull=False).exists()


def _snapshot():
    return {
        "batches": Batch.objects.count(), "history": BatchHistory.objects.count(),
        "farms": Farm.objects.count(), "blocks": Block.objects.count(), "seasons": Season.objects.count(),
        "clearances": SprayClearance.objects.count(), "defect_types": DefectType.objects.count(),
        "bins": BatchBin.objects.count(), "inspections": QCInspection.objects.count(),
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
        assert Farm.objects.count() == Block.objects.count() == SprayClearance.objects.count() == 0
        assert BatchBin.objects.count() == QCInspection.objects.count() == DefectType.objects.count() == 0


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


# --- Farms, blocks, seasons, clearances, bins and QC -----------------------------------------------


def test_every_batch_has_a_block_of_its_grower_and_a_season_holding_its_day(seeded):
    acme, _ = seeded
    with acme:
        seasons = list(Season.objects.all())
        for batch in Batch.objects.select_related("block__farm", "season"):
            block = batch.block
            assert (block.farm.grower_id, block.fruit_type, block.variety) == (
                batch.grower_id, batch.fruit_type, batch.variety)
            day = company_date(batch.intake_date)
            assert batch.season is not None and day in batch.season
            assert [s for s in seasons if day in s] == [batch.season]
        # Calendar-year seasons, the current one lasting beyond today.
        current = season_for(company_today())
        assert current.code == str(company_today().year) and current.end_date > company_today()


def test_farms_and_blocks_are_real_looking(seeded):
    acme, _ = seeded
    with acme:
        farms = list(Farm.objects.select_related("grower"))
        per_grower = Counter(farm.grower_id for farm in farms)
        assert set(per_grower) == set(Grower.objects.values_list("pk", flat=True))
        assert all(2 <= n <= 4 for n in per_grower.values()), per_grower
        for farm in farms:
            assert re.fullmatch(rf"{farm.grower.code}-F\d", farm.code)
            assert farm.name and farm.region and farm.active == farm.grower.active
            assert not farm.ggn or (re.fullmatch(r"\d{13}", farm.ggn) and ean.is_valid(farm.ggn)), farm.ggn
            farm.full_clean()  # the model's validators, the GGN's GS1 check digit among them
        assert sum(1 for farm in farms if farm.ggn) > len(farms) / 2
        pucs = [farm.puc for farm in farms if farm.puc]
        assert len(pucs) == len(set(pucs)) > len(farms) / 2
        growers = list(Grower.objects.exclude(ggn=""))
        assert growers and all(ean.is_valid(grower.ggn) for grower in growers)
        per_farm = Counter(Block.objects.values_list("farm_id", flat=True))
        assert set(per_farm) == {farm.pk for farm in farms}
        assert all(3 <= n <= 12 for n in per_farm.values()), per_farm
        names = {farm.name for farm in farms}
        assert any(" " in name for name in names)  # "Paardekloof Upper" beside "Paardekloof"
        for block in Block.objects.all():
            assert re.fullmatch(r"B\d\d", block.code) and block.hectares > 0
            assert company_today().year - 30 < block.planted_year < company_today().year
        varieties = set(Block.objects.values_list("variety", flat=True))
        assert {"Royal Gala", "Cripps Pink", "Packham's Triumph", "Forelle", "Nadorcott"} <= varieties


def test_clearances_leave_a_few_blocks_out_and_batches_are_flagged_as_the_intake_service_would(seeded):
    acme, _ = seeded
    with acme:
        season = season_for(company_today())
        blocks = Block.objects.count()
        cleared = SprayClearance.objects.filter(season=season).count()
        assert 2 <= blocks - cleared <= max(2, blocks * 0.05)
        flagged = 0
        for batch in Batch.objects.select_related("block", "season"):
            missing = clearance_for(batch.block, batch.season, company_date(batch.intake_date)) is None
            assert batch.without_clearance == missing, batch.batch_code  # acme's mrl_gate is warn
            flagged += missing
        assert 0 < flagged < Batch.objects.count() * 0.1


def test_bins_are_in_at_most_one_open_batch_and_count_the_batch(acme):
    # Enough batches for the last week's open ones to hold a few hundred bins.
    seed("--schema", "acme", "--batches", "2500", "--growers", "6", "--packhouses", "1", "--seed", "3")
    with acme:
        batches = {batch.pk: batch for batch in Batch.objects.all()}
        bins = list(BatchBin.objects.all())
        by_batch = Counter(b.batch_id for b in bins)
        assert 0.15 * len(batches) < len(by_batch) < 0.35 * len(batches)
        assert all(batches[pk].bin_count == n for pk, n in by_batch.items())
        assert all(b.open == (batches[b.batch_id].status in OPEN_STATUSES) for b in bins)
        open_codes = [b.code for b in bins if b.open]
        assert len(open_codes) == len(set(open_codes))
        # How many batches are still open depends on the season of today's date (a handful in November), so
        # the property behind it is checked on the whole year: a code comes round again only after more than
        # the week a batch can stay open.
        uses = defaultdict(list)
        for b in bins:
            uses[b.code].append(batches[b.batch_id].intake_date)
        gaps = [later - earlier for dates in uses.values() for earlier, later in pairwise(sorted(dates))]
        assert len(gaps) > 100  # bins come round again once their batch has closed
        assert min(gaps) > timedelta(days=OPEN_DAYS)


def test_qc_inspections_count_defects_within_the_sample(seeded):
    acme, _ = seeded
    with acme:
        inspections = list(QCInspection.objects.select_related("batch"))
        assert 0.04 * 300 < len(inspections) < 0.2 * 300
        assert len({i.batch_id for i in inspections}) == len(inspections)
        defects = defaultdict(list)
        for defect in QCDefect.objects.select_related("defect_type"):
            defects[defect.inspection_id].append(defect)
        assert defects
        for inspection in inspections:
            batch = inspection.batch
            assert inspection.sample_size >= 1 and inspection.inspected_at > batch.intake_date
            for defect in defects[inspection.pk]:
                assert 1 <= defect.count <= inspection.sample_size
                assert defect.defect_type.fruit_type in ("", batch.fruit_type)
            if inspection.result == QCResult.REJECT:
                assert batch.status == Status.REJECTED and batch.rejection_reason.startswith("QC reject: ")
            qc = batch.history.get(event="qc")
            top = sorted(defects[inspection.pk], key=lambda d: (-d.count, d.defect_type.code))[:3]
            assert qc.payload == records.qc_payload(
                inspection_id=inspection.pk, result=inspection.result, sample_size=inspection.sample_size,
                defects={d.defect_type.code: d.count for d in top},
            )
            assert qc.recorded_at == inspection.inspected_at
        assert {i.result for i in inspections} >= {QCResult.PASS}


def test_a_company_without_the_mrl_gate_flags_nothing_and_one_requiring_qc_inspects_all(acme):
    Company.objects.filter(pk=acme.company.pk).update(mrl_gate="off", qc_required=True)
    seed("--schema", "acme", "--batches", "120", "--growers", "4", "--packhouses", "1", "--seed", "5")
    with acme:
        assert not Batch.objects.filter(without_clearance=True).exists()
        graded = Batch.objects.exclude(status__in=(Status.RECEIVED, Status.REJECTED))
        assert graded.exists()
        assert not graded.exclude(inspections__result__in=(QCResult.PASS, QCResult.DOWNGRADE)).exists()


def test_a_clearance_recorded_later_is_used_by_the_next_run(seeded):
    """A re-run reads the clearances as they are now: a manager's new one clears the blocks it covers."""
    acme, _ = seeded
    with acme:
        season = season_for(company_today())
        block = Block.objects.filter(farm__grower__active=True).exclude(clearances__season=season).first()
        record_clearance(block=block, season=season, cleared_on=season.start_date, lab_reference="LAB-1")
    seed("--schema", "acme", "--batches", "600", "--growers", "10", "--packhouses", "2", "--seed", "9")
    with acme:
        assert not Batch.objects.filter(block=block, without_clearance=True,
                                        pk__gt=Batch.objects.order_by("pk")[299].pk).exists()
        assert Season.objects.filter(code=str(company_today().year)).count() == 1


def test_the_bin_ring_skips_codes_in_open_batches_and_comes_round_only_after_every_other_code():
    ring = BinRing(10, taken={"BN0000002", "BN0000005"})
    first = ring.take(8)
    assert first == ["BN0000001", "BN0000003", "BN0000004", "BN0000006", "BN0000007", "BN0000008", "BN0000009",
                     "BN0000010"]
    assert ring.take(3) == ["BN0000001", "BN0000003", "BN0000004"]


def _foreign_keys():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid), convalidated FROM pg_constraint "
            "WHERE contype = 'f' AND connamespace = current_schema()::regnamespace ORDER BY 1, 2"
        )
        return cursor.fetchall()


def test_the_loads_foreign_keys_come_back_under_their_names_validated(acme):
    with acme:
        before = _foreign_keys()
    assert any(table == "batch_bins" for table, *_ in before)
    seed("--schema", "acme", "--batches", "50", "--growers", "3", "--packhouses", "1", "--seed", "2")
    with acme:
        assert _foreign_keys() == before
