"""The QC report: defect % by grower, block and defect over a period, in ONE SQL statement.

Behind the page, the API and the CSV. A defect's % is the fruit found with it over every fruit
sampled from that block in the period (the sum of its counts over the sum of the sample sizes of
all the block's inspections, not only those that found it: an inspection that found no codling
moth still looked for it). A block sampled with no defect at all has one row with no defect and 0%.
The period selects inspections by their local date (inspected_at in the company's time zone).
"""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import connection

from core import periods
from core.tenancy import company_day_start, company_today
from growers.models import FruitType
from seasons.services import current_season

# Pages and the API show at most this many rows at a time; the CSV has them all.
PAGE_ROWS = 500

REPORT = """
WITH sampled AS (
    SELECT b.grower_id, b.block_id, i.id AS inspection_id, i.sample_size
    FROM qc_inspections i
    JOIN batches b ON b.id = i.batch_id
    WHERE i.inspected_at >= %(start)s AND i.inspected_at < %(end)s
      AND (%(fruit_type)s::varchar IS NULL OR b.fruit_type = %(fruit_type)s::varchar)
      AND (%(grower)s::bigint IS NULL OR b.grower_id = %(grower)s::bigint)
),
blocks_sampled AS (
    SELECT grower_id, block_id, COUNT(*) AS inspections, SUM(sample_size) AS fruit_sampled
    FROM sampled GROUP BY grower_id, block_id
),
defects_found AS (
    SELECT s.grower_id, s.block_id, d.defect_type_id, SUM(d.count) AS defective
    FROM sampled s JOIN qc_defects d ON d.inspection_id = s.inspection_id
    GROUP BY s.grower_id, s.block_id, d.defect_type_id
),
report AS (
    SELECT g.id AS grower_id, g.code AS grower_code, g.name AS grower_name,
           bl.id AS block_id, f.code AS farm_code, bl.code AS block_code, bl.fruit_type, bl.variety,
           dt.id AS defect_type_id, dt.code AS defect_code, dt.name AS defect_name, dt.severity,
           bs.inspections, bs.fruit_sampled, COALESCE(df.defective, 0) AS defective,
           ROUND(COALESCE(df.defective, 0) * 100.0 / bs.fruit_sampled, 2) AS defect_percent
    FROM blocks_sampled bs
    JOIN growers g ON g.id = bs.grower_id
    LEFT JOIN blocks bl ON bl.id = bs.block_id
    LEFT JOIN farms f ON f.id = bl.farm_id
    LEFT JOIN defects_found df ON df.grower_id = bs.grower_id AND df.block_id IS NOT DISTINCT FROM bs.block_id
    LEFT JOIN defect_types dt ON dt.id = df.defect_type_id
),
counted AS (
    SELECT (SELECT COUNT(*) FROM report) AS total_rows,
           (SELECT COALESCE(SUM(inspections), 0) FROM blocks_sampled) AS all_inspections,
           (SELECT COALESCE(SUM(fruit_sampled), 0) FROM blocks_sampled) AS all_fruit_sampled
)
SELECT c.total_rows, c.all_inspections, c.all_fruit_sampled, page.*
FROM counted c
LEFT JOIN LATERAL (
    SELECT * FROM report
    ORDER BY grower_code COLLATE "C", farm_code COLLATE "C", block_code COLLATE "C", defect_percent DESC,
             defect_code COLLATE "C" NULLS LAST, grower_id, block_id
    LIMIT %(limit)s OFFSET %(offset)s
) page ON TRUE
ORDER BY page.grower_code COLLATE "C", page.farm_code COLLATE "C", page.block_code COLLATE "C",
         page.defect_percent DESC, page.defect_code COLLATE "C" NULLS LAST, page.grower_id, page.block_id
"""


@dataclass(frozen=True)
class QCReportRow:
    grower_id: int
    grower_code: str
    grower_name: str
    block_id: int | None
    farm_code: str | None
    block_code: str | None
    fruit_type: str | None
    variety: str | None
    defect_type_id: int | None  # None: the block's inspections found no defect
    defect_code: str | None
    defect_name: str | None
    severity: str | None
    inspections: int  # of this block in the period
    fruit_sampled: int  # the sum of those inspections' sample sizes
    defective: int  # fruit found with this defect
    defect_percent: Decimal  # defective / fruit_sampled x 100, two decimals


ROW_FIELDS = list(QCReportRow.__dataclass_fields__)


@dataclass(frozen=True)
class QCReport:
    date_from: date
    date_to: date
    fruit_type: str | None
    grower_id: int | None
    rows: list[QCReportRow]
    total: int  # rows on all pages
    inspections: int  # in the period, after the filters
    fruit_sampled: int
    limit: int | None
    offset: int


def default_period(date_from=None, date_to=None):
    """Missing ends come from the current season; with no season, the 365 days up to today."""
    season = current_season()
    if season is not None:
        return date_from or season.start_date, date_to or season.end_date
    date_to = date_to or company_today()
    return date_from or date_to - timedelta(days=364), date_to


def period_errors(date_from, date_to):
    errors = {name: [message] for name, day in (("from", date_from), ("to", date_to))
              if (message := periods.date_error(day))}
    if errors:
        return errors
    if date_from > date_to:
        return {"to": [f"The period ends ({date_to}) before it starts ({date_from})."]}
    if message := periods.span_error(date_from, date_to):
        return {"to": [message]}
    return {}


def qc_report(date_from, date_to, *, fruit_type=None, grower=None, limit=None, offset=0):
    """The report for local dates date_from..date_to (inclusive). One SQL statement; ValidationError if bad."""
    errors = period_errors(date_from, date_to)
    if fruit_type is not None and fruit_type not in FruitType.values:
        errors["fruit_type"] = [f"'{fruit_type}' is not a fruit type."]
    if (limit is not None and limit < 1) or offset < 0:
        errors["limit"] = ["limit must be 1 or more and offset 0 or more."]
    if errors:
        raise ValidationError(errors)
    grower_id = getattr(grower, "pk", grower)
    params = {
        # Local days as moments, so the index on inspected_at serves and no time zone is set on the session.
        "start": company_day_start(date_from), "end": company_day_start(date_to + timedelta(days=1)),
        "fruit_type": fruit_type, "grower": grower_id, "limit": limit, "offset": offset,
    }
    with connection.cursor() as cursor:
        cursor.execute(REPORT, params)
        columns = [col.name for col in cursor.description]
        found = [dict(zip(columns, record, strict=True)) for record in cursor.fetchall()]
    head = found[0]
    rows = [QCReportRow(**{name: r[name] for name in ROW_FIELDS}) for r in found if r["grower_id"] is not None]
    return QCReport(
        date_from=date_from, date_to=date_to, fruit_type=fruit_type, grower_id=grower_id, rows=rows,
        total=head["total_rows"], inspections=int(head["all_inspections"]),
        fruit_sampled=int(head["all_fruit_sampled"]), limit=limit, offset=offset,
    )


CSV_COLUMNS = [
    ("grower_code", "Grower code"), ("grower_name", "Grower"), ("farm_code", "Farm"), ("block_code", "Block"),
    ("fruit_type", "Fruit type"), ("variety", "Variety"), ("defect_code", "Defect code"), ("defect_name", "Defect"),
    ("severity", "Severity"), ("inspections", "Inspections"), ("fruit_sampled", "Fruit sampled"),
    ("defective", "Defective fruit"), ("defect_percent", "Defect %"),
]


def csv_rows(report):
    for row in report.rows:
        yield [("" if getattr(row, name) is None else getattr(row, name)) for name, _ in CSV_COLUMNS]


def csv_filename(report):
    return f"qc_{report.date_from:%Y%m%d}_{report.date_to:%Y%m%d}.csv"
