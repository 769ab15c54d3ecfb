"""What each kind of import reads, how a row finds what it changes, and which service writes it.

A kind's columns are its contract with the spreadsheet (docs/IMPORTS.md and the
upload page list them). Every write goes through the owning app's services,
so an imported grower obeys exactly the rules of one typed into the form.
"""

from dataclasses import dataclass, field

from django.core.exceptions import NON_FIELD_ERRORS

from growers import services as grower_services
from growers.models import Block, Farm, FruitType, Grower
from payments import services as payment_services
from payments.models import Grade, PriceAgreement

from . import parsing
from .models import Kind


class RowRefused(Exception):
    """A row that cannot be imported, with the reason a person can act on."""


def _text(text):
    return text


def _upper(text):
    return text.upper()


def _lower(text):
    return text.lower()


def _optional(convert):
    return lambda text: convert(text) if text else None


@dataclass(frozen=True)
class Column:
    name: str
    help: str
    required: bool = False
    field: str = ""  # the model field it sets; the column's name when empty
    convert: object = _text
    example: str = ""

    @property
    def target(self):
        return self.field or self.name


ACTIVE = Column("active", "yes or no. Blank: yes for a new row, unchanged for an existing one.",
                convert=parsing.boolean, example="yes")


@dataclass
class ImportKind:
    kind: str
    columns: tuple
    key_columns: tuple
    editable: tuple
    permissions: tuple
    existing: dict = field(default_factory=dict)

    @property
    def column_names(self):
        return [column.name for column in self.columns]

    @property
    def required(self):
        return [column.name for column in self.columns if column.required]

    def parse(self, cells):
        """{field: value} of the columns the file has. Blank `active` is left out: it keeps what is there."""
        values, problems = {}, []
        for column in self.columns:
            if column.name not in cells:
                continue
            text = cells[column.name]
            if not text:
                if column.required:
                    problems.append(f"{column.name}: this column needs a value.")
                elif column is not ACTIVE:
                    values[column.target] = None if column.convert not in (_text, _upper, _lower) else ""
                continue
            try:
                values[column.target] = column.convert(text)
            except ValueError as exc:
                problems.append(f"{column.name}: {exc}")
        if problems:
            raise RowRefused(" ".join(problems))
        return values

    def label(self, field_name):
        for column in self.columns:
            if column.target == field_name:
                return column.name
        return field_name

    def reason(self, exc):
        """A service's ValidationError as one line, naming columns as the file does."""
        if not hasattr(exc, "error_dict"):
            return " ".join(exc.messages)
        parts = []
        for name, errors in exc.message_dict.items():
            text = " ".join(errors)
            parts.append(text if name == NON_FIELD_ERRORS else f"{self.label(name)}: {text}")
        return " ".join(parts)

    def changes(self, obj, values):
        return {name: value for name, value in values.items()
                if name in self.editable and getattr(obj, name) != value}

    # Subclasses: prepare(rows), key(values), describe(values), create(values, by), update(obj, changes, by).


class GrowerImport(ImportKind):
    def __init__(self):
        super().__init__(
            kind=Kind.GROWERS,
            columns=(
                Column("code", "The grower's code, e.g. G0042: finds the grower to update.", required=True,
                       convert=_upper, example="G0042"),
                Column("name", "The grower's name.", required=True, example="Oak Valley Farms"),
                Column("contact_name", "Who to call.", example="Anna Smit"),
                Column("email", "Contact email.", convert=_lower, example="anna@oakvalley.example"),
                Column("phone", "Contact phone.", example="+27 23 123 4567"),
                Column("region", "Region, e.g. Ceres.", example="Ceres"),
                Column("ggn", "GlobalG.A.P. number, 13 digits.", example=""),
                ACTIVE,
            ),
            key_columns=("code",),
            editable=grower_services.EDITABLE,
            permissions=("growers.add_grower", "growers.change_grower"),
        )

    def prepare(self, rows):
        codes = {row.cells.get("code", "").upper() for row in rows}
        self.existing = {grower.code: grower for grower in Grower.objects.filter(code__in=codes)}

    def key(self, values):
        return (values["code"],)

    def find(self, values):
        return self.existing.get(values["code"])

    def create(self, values, by):
        return grower_services.create_grower(**values)

    def update(self, obj, changes, by):
        return grower_services.update_grower(obj, **changes)


class FarmImport(ImportKind):
    def __init__(self):
        super().__init__(
            kind=Kind.FARMS,
            columns=(
                Column("code", "The farm's code, unique in the company, e.g. G0042-F1: finds the farm to update.",
                       required=True, convert=_upper, example="G0042-F1"),
                Column("grower_code", "The code of the grower who owns the farm; the grower must exist. "
                       "A farm cannot move to another grower.", required=True, field="grower", convert=_upper,
                       example="G0042"),
                Column("name", "The farm's name.", required=True, example="Oak Valley home farm"),
                Column("puc", "Production unit code (export), unique when set.", convert=_upper, example="OAK001"),
                Column("ggn", "GlobalG.A.P. number of the farm, 13 digits with a valid GS1 check digit.",
                       example="4063061000002"),
                Column("region", "Region, e.g. Ceres.", example="Ceres"),
                ACTIVE,
            ),
            key_columns=("code",),
            editable=grower_services.FARM_EDITABLE,
            permissions=("growers.add_farm", "growers.change_farm"),
        )

    def prepare(self, rows):
        codes = {row.cells.get("code", "").upper() for row in rows}
        grower_codes = {row.cells.get("grower_code", "").upper() for row in rows}
        self.existing = {farm.code: farm for farm in Farm.objects.filter(code__in=codes).select_related("grower")}
        self.growers = {grower.code: grower for grower in Grower.objects.filter(code__in=grower_codes)}

    def parse(self, cells):
        values = super().parse(cells)
        grower = self.growers.get(values["grower"])
        if grower is None:
            raise RowRefused(f"grower_code: no grower has the code {values['grower']}. Import the growers first.")
        values["grower"] = grower
        return values

    def key(self, values):
        return (values["code"],)

    def find(self, values):
        farm = self.existing.get(values["code"])
        if farm is not None and farm.grower_id != values["grower"].pk:
            raise RowRefused(f"grower_code: farm {farm.code} belongs to grower {farm.grower.code}; "
                             "a farm cannot move to another grower.")
        return farm

    def create(self, values, by):
        return grower_services.create_farm(**values)

    def update(self, obj, changes, by):
        return grower_services.update_farm(obj, **changes)


def _hectares(text):
    return parsing.decimal(text)


class BlockImport(ImportKind):
    def __init__(self):
        super().__init__(
            kind=Kind.BLOCKS,
            columns=(
                Column("farm_code", "The code of the farm the block is on; the farm must exist.", required=True,
                       field="farm", convert=_upper, example="G0042-F1"),
                Column("code", "The block's code, unique within its farm, e.g. B07. Farm and block code find "
                       "the block to update.", required=True, convert=_upper, example="B07"),
                Column("fruit_type", f"One of {', '.join(FruitType.values)} (or its name, e.g. Stone fruit).",
                       required=True, convert=lambda text: parsing.choice(text, FruitType), example="apple"),
                Column("variety", "The variety, e.g. Gala.", required=True, example="Gala"),
                Column("hectares", "Area in hectares, e.g. 4,25 or 4.25.", convert=_hectares, example="4,25"),
                Column("planted_year", "Year planted, e.g. 2015.", convert=parsing.integer, example="2015"),
                ACTIVE,
            ),
            key_columns=("farm_code", "code"),
            editable=grower_services.BLOCK_EDITABLE,
            permissions=("growers.add_block", "growers.change_block"),
        )

    def prepare(self, rows):
        farm_codes = {row.cells.get("farm_code", "").upper() for row in rows}
        self.farms = {farm.code: farm for farm in Farm.objects.filter(code__in=farm_codes)}
        self.existing = {(block.farm.code, block.code): block
                         for block in Block.objects.filter(farm__code__in=farm_codes).select_related("farm")}

    def parse(self, cells):
        values = super().parse(cells)
        farm = self.farms.get(values["farm"])
        if farm is None:
            raise RowRefused(f"farm_code: no farm has the code {values['farm']}. Import the farms first.")
        values["farm"] = farm
        return values

    def key(self, values):
        return (values["farm"].code, values["code"])

    def find(self, values):
        return self.existing.get(self.key(values))

    def create(self, values, by):
        return grower_services.create_block(**values)

    def update(self, obj, changes, by):
        return grower_services.update_block(obj, **changes)


class PriceImport(ImportKind):
    def __init__(self):
        super().__init__(
            kind=Kind.PRICES,
            columns=(
                Column("fruit_type", f"One of {', '.join(FruitType.values)} (or its name).", required=True,
                       convert=lambda text: parsing.choice(text, FruitType), example="apple"),
                Column("variety", "The variety; blank means any variety.", example="Gala"),
                Column("grade", f"One of {', '.join(Grade.values)} (or Class 1 ...).", required=True,
                       convert=lambda text: parsing.choice(text, Grade), example="class1"),
                Column("valid_from", "First day it applies, YYYY-MM-DD. Fruit, variety, grade and valid_from "
                       "find the agreement to update.", required=True, convert=parsing.date, example="2026-01-01"),
                Column("valid_to", "Last day it applies, YYYY-MM-DD; blank means open-ended.",
                       convert=_optional(parsing.date), example="2026-12-31"),
                Column("price_per_kg", "Price per kg in the company's currency, e.g. 12,50 or 12.50.", required=True,
                       convert=parsing.decimal, example="12,50"),
                Column("notes", "Anything to remember about it.", example=""),
            ),
            key_columns=("fruit_type", "variety", "grade", "valid_from"),
            editable=payment_services.PRICE_EDITABLE,
            permissions=("payments.add_priceagreement", "payments.change_priceagreement"),
        )

    def prepare(self, rows):
        self.existing = {(agreement.fruit_type, agreement.variety.lower(), agreement.grade, agreement.valid_from):
                         agreement for agreement in PriceAgreement.objects.all()}

    def parse(self, cells):
        values = super().parse(cells)
        values.setdefault("variety", "")
        values["variety"] = values["variety"] or ""
        return values

    def key(self, values):
        return (values["fruit_type"], values["variety"].lower(), values["grade"], values["valid_from"])

    def find(self, values):
        return self.existing.get(self.key(values))

    def create(self, values, by):
        return payment_services.create_price_agreement(**values, by=by)

    def update(self, obj, changes, by):
        return payment_services.update_price_agreement(obj, **changes)


KINDS = {Kind.GROWERS: GrowerImport, Kind.FARMS: FarmImport, Kind.BLOCKS: BlockImport, Kind.PRICES: PriceImport}


def kind_for(name):
    """A fresh importer of this kind (it holds the lookups of one run)."""
    return KINDS[name]()


def key_text(importer, values):
    """The row's key as the preview shows it: "G0042-F1 / B07"."""
    return " / ".join(str(part) if part != "" else "(any variety)" for part in importer.key(values))


def may_import(user, name):
    return user.has_perm("onboarding.add_importrun") and user.has_perms(kind_for(name).permissions)

