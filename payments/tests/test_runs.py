"""Payment runs: validation, a second approver, posting once (even when raced), remittance numbers without gaps."""

import threading
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction

from batches.tests.factories import BatchFactory
from core.errors import Conflict
from core.tests.helpers import finish, start_in_thread
from payments import services
from payments.models import GrowerPayment, PaymentRun, PaymentRunHistory, RemittanceAdvice, RunStatus
from pools import services as pool_services
from pools.settlement import settle

from .runs_helpers import approved_run, closed_pool

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def users(acme):
    return acme.user("Finance"), acme.user("Manager")


@pytest.fixture
def pool(acme):
    with acme:
        return closed_pool()


def finals(pool):
    return {s.grower_code: s.final for s in settle(pool)}


def test_preparing_stores_each_growers_settlement(acme, pool, users):
    finance, _ = users
    with acme:
        run = services.prepare_run(pool, by=finance)
        lines = {line.grower.code: line for line in run.lines.select_related("grower")}
    assert {code: line.final for code, line in lines.items()} == {"GA001": D("465.00"), "GB002": D("-435.00")}
    a = lines["GA001"]
    assert (a.gross, a.charges, a.already_paid) == (D("700.00"), D("135.00"), D("100.00"))
    assert [c["amount"] for c in a.breakdown["charges"]] == ["90.00", "10.00", "35.00"]
    assert a.breakdown["grades"][0]["kg"] == "800.00" and a.breakdown["grades"][0]["rate"].startswith("0.625")
    assert run.status == RunStatus.DRAFT and run.prepared_by == finance


def test_an_open_pool_has_no_run(acme, users):
    with acme:
        pool = closed_pool(close=False)
        with pytest.raises(ValidationError, match="is open: close it first"):
            services.prepare_run(pool, by=users[0])
        assert not PaymentRun.objects.exists()


def test_validation_lists_each_blocking_issue_with_a_link(acme, users):
    finance, manager = users
    with acme:
        pool = closed_pool(close=False)
        # Received, not yet packed: its grower has net kg (charged the levy) and nothing packed, so a negative final.
        unpacked = BatchFactory(fruit_type="apple", variety="Gala")
        pool = pool_services.close_pool(pool)
        run = services.prepare_run(pool, by=finance)
        issues = services.validation_issues(run)
        assert [issue.code for issue in issues] == ["batch_not_packed", "negative_undecided", "negative_undecided"]
        assert issues[0].url == f"/batches/{unpacked.pk}/" and unpacked.batch_code in issues[0].message
        negative = run.lines.get(grower__code="GB002")
        assert f"/payments/runs/{run.pk}/#line-{negative.pk}" in [issue.url for issue in issues]
        with pytest.raises(ValidationError, match="not yet packed"):
            services.approve_run(run, by=manager)
        assert PaymentRun.objects.get(pk=run.pk).status == RunStatus.DRAFT


def test_a_grade_with_kg_and_no_income_blocks(acme, users):
    finance, manager = users
    with acme:
        pool = closed_pool(close=False)
        entry = pool.income.get(grade="class2")
        pool_services.reverse_income(entry, reason="wrong grade")
        pool = pool_services.close_pool(pool)
        run = services.prepare_run(pool, by=finance)
        issues = [i for i in services.validation_issues(run) if i.code == "grade_without_income"]
        assert len(issues) == 1 and issues[0].url == f"/pools/{pool.pk}/income/"
        assert "class2 has 200,00 kg but no income" in issues[0].message.replace("\u00a0", " ")


def test_the_preparer_may_not_approve_and_neither_may_a_clerk(acme, pool, users):
    finance, manager = users
    with acme:
        run = services.prepare_run(pool, by=finance)
        services.decide(run, run.lines.get(final__lt=0), "carry_forward", by=finance)
        with pytest.raises(PermissionDenied, match="You prepared"):
            services.approve_run(run, by=finance)
        with pytest.raises(PermissionDenied):
            services.approve_run(run, by=acme.user("Clerk"))
        # The database holds the rule too.
        with pytest.raises(IntegrityError, match="approver_is_not_preparer"), transaction.atomic():
            PaymentRun.objects.filter(pk=run.pk).update(status=RunStatus.APPROVED, approved_by=finance,
                                                        approved_at=run.prepared_at)
        run = services.approve_run(run, by=manager)
    assert run.status == RunStatus.APPROVED and run.approved_by == manager


def test_another_finance_user_may_approve(acme, pool, users):
    from accounts import services as account_services

    with acme:
        other = account_services.ensure_user(email="second@acme.test", password="x-very-long-pass", role="Finance")
        run = approved_run(pool, users[0], other)
    assert run.approved_by == other


def test_approval_is_refused_when_the_figures_moved(acme, pool, users):
    finance, manager = users
    with acme:
        run = services.prepare_run(pool, by=finance)
        services.decide(run, run.lines.get(final__lt=0), "carry_forward", by=finance)
        services.reverse_payment(GrowerPayment.objects.get(reference="ADV-P-RUN-GA001"), reason="bounced")
        with pytest.raises(ValidationError, match="prepare the run again"):
            services.approve_run(run, by=manager)
        run = services.prepare_run(pool, by=finance)  # recomputes: GA001 now 565.00, decisions asked again
        assert run.lines.get(grower__code="GA001").final == D("565.00")
        assert run.lines.get(grower__code="GB002").decision == ""


def test_posting_writes_a_final_and_a_deduction_per_kind_and_leaves_every_balance_at_zero(acme, pool, users):
    finance, manager = users
    with acme:
        run = approved_run(pool, finance, manager)
        run, posted = services.post_run(run, by=finance)
        written = {(p.grower.code, p.payment_type, p.amount, p.reference)
                   for p in GrowerPayment.objects.filter(reference__startswith=run.reference).select_related("grower")}
        after = finals(pool)
        advices = list(RemittanceAdvice.objects.order_by("number"))
    assert posted and run.status == RunStatus.POSTED and run.posted_by == finance
    ref = run.reference
    deductions = {(code, "deduction", D(amount), f"{ref}-{code}-{kind}") for code in ("GA001", "GB002")
                  for kind, amount in (("PACKING", "90.00"), ("LEVY", "10.00"), ("COMMISSION", "35.00"))}
    assert written == deductions | {("GA001", "final", D("465.00"), f"{ref}-GA001-FINAL"),
                                    ("GB002", "adjustment", D("-435.00"), f"{ref}-GB002-CARRIED")}
    assert after == {"GA001": D("0.00"), "GB002": D("0.00")}
    assert [(a.number, a.final) for a in advices] == [(1, D("465.00")), (2, D("-435.00"))]


def test_posting_twice_writes_nothing_new(acme, pool, users):
    finance, manager = users
    with acme:
        run = approved_run(pool, finance, manager)
        services.post_run(run, by=finance)
        count = GrowerPayment.objects.count(), RemittanceAdvice.objects.count()
        run, posted = services.post_run(run, by=manager)
        assert not posted
        assert (GrowerPayment.objects.count(), RemittanceAdvice.objects.count()) == count
        assert list(PaymentRunHistory.objects.filter(run=run).values_list("event", flat=True)) == [
            "posted", "approved", "decided", "prepared"]


def test_a_held_line_is_not_paid_and_keeps_its_balance(acme, pool, users):
    finance, manager = users
    with acme:
        run = approved_run(pool, finance, manager, decision="hold")
        services.post_run(run, by=finance)
        assert not GrowerPayment.objects.filter(reference__startswith=f"{run.reference}-GB002").exists()
        assert list(RemittanceAdvice.objects.values_list("grower__code", flat=True)) == ["GA001"]
        assert finals(pool) == {"GA001": D("0.00"), "GB002": D("-435.00")}


def test_one_live_run_per_pool_and_cancel(acme, pool, users):
    finance, manager = users
    with acme:
        first = services.prepare_run(pool, by=finance)
        assert services.prepare_run(pool, by=finance).pk == first.pk  # a draft is recomputed, not doubled
        with pytest.raises(IntegrityError, match="one_live_per_pool"), transaction.atomic():
            PaymentRun.objects.create(pool=pool, prepared_by=finance)
        services.cancel_run(first, by=manager, reason="wrong rates")
        second = services.prepare_run(pool, by=finance)
        assert second.pk != first.pk
        with pytest.raises(Conflict):
            services.post_run(second, by=finance)  # a draft is not posted
        services.decide(second, second.lines.get(final__lt=0), "carry_forward", by=finance)
        services.approve_run(second, by=manager)
        with pytest.raises(Conflict, match="already has"):
            services.prepare_run(pool, by=finance)
        services.post_run(second, by=finance)
        with pytest.raises(Conflict, match="cannot be cancelled"):
            services.cancel_run(second, by=manager)


def test_remittance_numbers_have_no_gaps_even_when_a_posting_rolls_back(acme, users):
    finance, manager = users
    with acme:
        apples = closed_pool(code="P-APPLE")
        pears = closed_pool(code="P-PEAR", fruit_type="pear", variety="Packham", growers=("GC003", "GD004"))
        services.post_run(approved_run(apples, finance, manager), by=finance)
        pear_run = approved_run(pears, finance, manager)

        class Boom(Exception):
            pass

        with pytest.raises(Boom), transaction.atomic():
            services.post_run(pear_run, by=finance)
            raise Boom
        assert PaymentRun.objects.get(pk=pear_run.pk).status == RunStatus.APPROVED
        services.post_run(pear_run, by=finance)
        numbers = list(RemittanceAdvice.objects.order_by("number").values_list("number", "grower__code"))
    assert numbers == [(1, "GA001"), (2, "GB002"), (3, "GC003"), (4, "GD004")]


def test_a_remittance_advice_is_immutable(acme, pool, users):
    with acme:
        services.post_run(approved_run(pool, *users), by=users[0])
        advice = RemittanceAdvice.objects.first()
        with pytest.raises(Exception, match="append-only"), transaction.atomic():
            RemittanceAdvice.objects.filter(pk=advice.pk).update(final=D("1"))
        with pytest.raises(Exception, match="append-only"), transaction.atomic():
            advice.delete()


@pytest.fixture
def committed_run(acme):
    """An approved run, committed so that other connections see it; removed afterwards."""
    def make():
        return approved_run(closed_pool(code="P-RACE"), acme.user("Finance"), acme.user("Manager"))

    made = finish(*start_in_thread(acme.company, make))
    assert "error" not in made, made
    yield made["value"]

    def cleanup():
        with connection.cursor() as cursor:
            cursor.execute("TRUNCATE growers, packhouses, pools, remittance_counter, batch_code_counters "
                           "RESTART IDENTITY CASCADE")

    finish(*start_in_thread(acme.company, cleanup))


def test_two_finance_users_post_at_once_and_the_payments_are_written_once(acme, committed_run):
    go = threading.Barrier(2)

    def post(role):
        def work():
            go.wait(10)
            return services.post_run(committed_run, by=acme.user(role))[1]
        return work

    outcomes = [finish(*run) for run in [start_in_thread(acme.company, post(role)) for role in ("Finance", "Manager")]]

    assert sorted(o.get("value") for o in outcomes) == [False, True], outcomes
    counted = finish(*start_in_thread(acme.company, lambda: (
        GrowerPayment.objects.filter(reference__startswith=committed_run.reference).count(),
        list(RemittanceAdvice.objects.values_list("number", flat=True).order_by("number")))))
    assert counted["value"] == (8, [1, 2])
