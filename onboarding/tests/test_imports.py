"""Previews and confirmation of each kind, through the services: statuses, reasons, all or nothing."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from batches.tests.factories import BatchFactory
from growers import services as grower_services
from growers.models import Grower
from growers.tests.factories import GrowerFactory
from onboarding import services
from onboarding.models import ImportRun, Status
from payments import services as payment_services
from payments.models import PriceAgreement

from .helpers import csv_bytes, xlsx_bytes

pytestmark = pytest.mark.django_db


def upload(kind, content, filename=None, by=None):
    return services.upload(kind=kind, filename=filename or f"{kind}.csv", content=content, by=by)


def statuses(run):
    return [(row["line"], row["key"], row["status"]) for row in run.rows]


def reason(run, line):
    return next(row["reason"] for row in run.rows if row["line"] == line)


def test_growers_preview_shows_new_changed_unchanged_and_refused_and_writes_nothing(acme):
    with acme:
        GrowerFactory(code="G0001", name="Oak", region="Ceres")
        GrowerFactory(code="G0002", name="Elm", region="Ceres")
        run = upload("growers", csv_bytes(
            "code,name,region,ggn",
            "G0001,Oak,Ceres,",          # unchanged
            "g0002,Elm Farms,Ceres,",    # changed (codes are upper-cased)
            "G0003,Ash,Grabouw,",        # new
            "G0004,Bad,Ceres,12345",     # refused: GGN is 13 digits
            "G0003,Ash again,Ceres,",    # refused: same key as row 4
            ",No code,Ceres,",           # refused: required
        ))

        assert run.status == Status.READY
        assert statuses(run) == [(2, "G0001", "unchanged"), (3, "G0002", "changed"), (4, "G0003", "new"),
                                 (5, "G0004", "refused"), (6, "G0003", "refused"), (7, "", "refused")]
        assert (run.new_count, run.changed_count, run.unchanged_count, run.refused_count) == (1, 1, 1, 3)
        assert run.rows[1]["changes"] == ["name: Elm → Elm Farms"]
        assert "13 digits" in reason(run, 5)
        assert "Row 4 has the same key (G0003)" in reason(run, 6)
        assert "code: this column needs a value" in reason(run, 7)
        assert Grower.objects.count() == 2
        assert Grower.objects.get(code="G0002").name == "Elm"


def test_a_refused_row_blocks_confirmation(acme):
    with acme:
        run = upload("growers", csv_bytes("code,name,ggn", "G0001,Oak,", "G0002,Elm,123"))
        with pytest.raises(ValidationError, match="1 row is refused, so nothing can be imported"):
            services.confirm(run, by=acme.user("Manager"))
        assert not Grower.objects.exists()


def test_confirm_writes_every_row_through_the_services(acme):
    with acme:
        GrowerFactory(code="G0001", name="Oak")
        run = upload("growers", csv_bytes("code,name,email,active", "G0001,Oak Farms,,no",
                                          "G0002,Elm,INFO@ELM.EXAMPLE,"))
        run = services.confirm(run, by=acme.user("Manager"))

        assert run.status == Status.DONE and run.confirmed_by.email == "manager@acme.test"
        oak, elm = Grower.objects.order_by("code")
        assert (oak.name, oak.active) == ("Oak Farms", False)
        assert (elm.name, elm.email, elm.active) == ("Elm", "info@elm.example", True)


def test_a_row_refused_at_confirmation_rolls_back_every_row(acme):
    with acme:
        run = upload("growers", csv_bytes("code,name,ggn", "G0001,Oak,", "G0002,Elm,4063061000005",
                                          "G0003,Ash,"))
        assert run.refused_count == 0
        # Between preview and confirmation someone gives another grower that GGN.
        GrowerFactory(code="G0009", ggn="4063061000005")

        run = services.confirm(run, by=acme.user("Manager"))

        assert run.status == Status.READY
        assert "Nothing was imported: 1 row was refused when writing" in run.error
        assert "Another grower already has this GGN" in reason(run, 3)
        assert list(Grower.objects.values_list("code", flat=True)) == ["G0009"]


def test_an_unexpected_error_while_writing_rolls_back_and_marks_the_run_failed(acme, monkeypatch):
    with acme:
        run = upload("growers", csv_bytes("code,name", "G0001,Oak", "G0002,Elm"))
        real = grower_services.create_grower

        def flaky(**values):
            if values["code"] == "G0002":
                raise RuntimeError("disk full")
            return real(**values)

        monkeypatch.setattr(grower_services, "create_grower", flaky)
        with pytest.raises(RuntimeError):
            services.confirm(run, by=acme.user("Manager"))

        run.refresh_from_db()
        assert run.status == Status.FAILED and "nothing was imported" in run.error
        assert not Grower.objects.exists()


def test_farms_refuse_a_bad_ggn_check_digit_an_unknown_grower_and_a_change_of_grower(acme):
    with acme:
        oak, elm = GrowerFactory(code="G0001"), GrowerFactory(code="G0002")
        grower_services.create_farm(grower=oak, code="G0001-F1", name="Oak home")
        run = upload("farms", csv_bytes(
            "code,grower_code,name,puc,ggn",
            "G0001-F1,G0001,Oak home farm,,",        # changed
            "G0001-F2,G0001,Oak hill,OAK2,4063061000002",  # new
            "G0002-F1,G0002,Elm,,4063061000005",      # refused: check digit
            "G0009-F1,G0009,Nobody,,",               # refused: unknown grower
            "G0001-F1,G0002,Moved,,",                # refused: duplicate key
        ))
        assert [row["status"] for row in run.rows] == ["changed", "new", "refused", "refused", "refused"]
        assert "check digit is wrong" in reason(run, 4)
        assert "no grower has the code G0009" in reason(run, 5)
        assert "same key" in reason(run, 6)

        moved = upload("farms", csv_bytes("code,grower_code,name", "G0001-F1,G0002,Oak home"))
        assert "belongs to grower G0001; a farm cannot move" in reason(moved, 2)
        assert elm.farms.count() == 0


def test_blocks_by_farm_and_code_with_decimal_comma_hectares(acme):
    with acme:
        grower = GrowerFactory(code="G0001")
        farm = grower_services.create_farm(grower=grower, code="G0001-F1", name="Oak home")
        grower_services.create_block(farm=farm, code="B01", fruit_type="apple", variety="Gala")
        run = upload("blocks", csv_bytes(
            "farm_code;code;fruit_type;variety;hectares;planted_year",
            "G0001-F1;B01;Apple;Gala;4,25;2015",
            "G0001-F1;B02;stone fruit;Flavorcrest;1 234,5;",
            "G0001-F1;B03;apple;Fuji;1.234,5;",
            "G0009-F1;B01;apple;Fuji;;",
            "G0001-F1;B04;banana;Cavendish;;",
        ))
        assert [row["status"] for row in run.rows] == ["changed", "new", "refused", "refused", "refused"]
        assert run.rows[0]["changes"] == ["hectares: (blank) → 4.25", "planted_year: (blank) → 2015"]
        assert "ambiguous" in reason(run, 4)
        assert "no farm has the code G0009-F1" in reason(run, 5)
        assert "“banana” is not one of" in reason(run, 6)


def test_a_block_whose_batches_fix_its_variety_is_refused(acme):
    with acme:
        batch = BatchFactory()
        block = batch.block
        run = upload("blocks", csv_bytes("farm_code,code,fruit_type,variety",
                                         f"{block.farm.code},{block.code},{block.fruit_type},Other"))
        assert run.rows[0]["status"] == "refused"
        assert "its fruit and variety can no longer change" in run.rows[0]["reason"]


def test_prices_keyed_by_fruit_variety_grade_and_start(acme):
    with acme:
        payment_services.create_price_agreement(fruit_type="apple", variety="Gala", grade="class1",
                                                 valid_from=dt.date(2026, 1, 1), price_per_kg=Decimal("10"))
        run = upload("prices", csv_bytes(
            "fruit_type,variety,grade,valid_from,valid_to,price_per_kg",
            'apple,gala,Class 1,2026-01-01,,"12,50"',
            "apple,,class2,2026-01-01,2026-06-30,8.4",
            "apple,,class2,2026-03-01,,9",               # overlaps the row above: the service refuses it
            "pear,,class1,01/03/2026,,9",
            "pear,,class1,2026-03-01,,0",
        ))
        assert [row["status"] for row in run.rows] == ["changed", "new", "refused", "refused", "refused"]
        assert run.rows[0]["changes"] == ["price_per_kg: 10.0000 → 12.50"]
        assert "overlaps" in reason(run, 4)
        assert "YYYY-MM-DD" in reason(run, 5)
        assert "more than zero" in reason(run, 6)
        assert PriceAgreement.objects.count() == 1


def test_prices_confirmed_record_who_made_them(acme):
    with acme:
        finance = acme.user("Finance")
        with pytest.raises(ValidationError, match="put such numbers in quotes"):  # "3,5" in a comma CSV: two cells
            upload("prices", csv_bytes("fruit_type,grade,valid_from,price_per_kg", "citrus,ungraded,2026-01-01,3,5"),
                   by=finance)
        run = upload("prices", csv_bytes("fruit_type;grade;valid_from;price_per_kg", "citrus;ungraded;2026-01-01;3,5"),
                     by=finance)
        services.confirm(run, by=finance)
        agreement = PriceAgreement.objects.get()
        assert (agreement.price_per_kg, agreement.variety, agreement.created_by) == (Decimal("3.5"), "", finance)


def test_xlsx_is_read_with_numbers_dates_and_blank_rows(acme):
    with acme:
        content = xlsx_bytes([
            ["Fruit type", "Grade", "Valid from", "Price per kg", None],
            ["apple", "class1", dt.datetime(2026, 1, 1), 12.5, None],
            [None, None, None, None, None],
            ["pear", "class1", dt.date(2026, 1, 1), "7,25", None],
        ])
        run = upload("prices", content, filename="prices.xlsx")
        assert statuses(run) == [(2, "apple / (any variety) / class1 / 2026-01-01", "new"),
                                 (4, "pear / (any variety) / class1 / 2026-01-01", "new")]
        services.confirm(run, by=acme.user("Manager"))
        assert sorted(PriceAgreement.objects.values_list("price_per_kg", flat=True)) == [Decimal("7.25"),
                                                                                        Decimal("12.5")]


@pytest.mark.parametrize(("filename", "content", "message"), [
    ("growers.csv", b"code,nam\nG1,x\n", "Unknown column nam"),
    ("growers.csv", b"code\nG1\n", "Missing column: name"),
    ("growers.csv", b"code,name\n", "no rows"),
    ("growers.csv", "code,name\nG0001,Café\n".encode("latin-1"), "not UTF-8"),
    ("growers.xls", b"whatever", "Upload a .csv or .xlsx file"),
    ("growers.xlsx", b"not a zip", "could not be read as an Excel workbook"),
])
def test_an_unusable_file_is_refused_as_a_whole(acme, filename, content, message):
    with acme:
        with pytest.raises(ValidationError, match=message):
            upload("growers", content, filename=filename)


def test_parsing_numbers():
    from onboarding import parsing

    assert parsing.decimal("12,50") == Decimal("12.50")
    assert parsing.decimal("5000,5") == Decimal("5000.5")
    assert parsing.decimal("1 234.5") == Decimal("1234.5")
    for text in ("5.000,5", "5,000.5", "1,234,567", "abc", "NaN"):
        with pytest.raises(ValueError):
            parsing.decimal(text)


def test_a_done_run_cannot_be_confirmed_twice(acme):
    with acme:
        run = upload("growers", csv_bytes("code,name", "G0001,Oak"))
        services.confirm(run, by=acme.user("Manager"))
        with pytest.raises(ValidationError, match="only a preview that is ready"):
            services.confirm(run, by=acme.user("Manager"))
        assert Grower.objects.count() == 1


def test_imports_of_one_company_stay_there(acme, globex):
    with acme:
        run = upload("growers", csv_bytes("code,name", "G0001,Oak"))
        services.confirm(run, by=acme.user("Manager"))
    with globex:
        assert not Grower.objects.exists()
        assert not ImportRun.objects.exists()
