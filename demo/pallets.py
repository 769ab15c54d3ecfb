"""Pallets, cold-store rooms and loads for the seeded batches, bulk-written with COPY.

What the pallets and dispatch services would have left after a season, written directly because a million
batches make about half a million pallets (the services take some 30 ms a pallet):

- every dispatched batch has its whole pack-out (class 1 to 3) on dispatched pallets, so the trace's mass
  balance adds up and dispatch_load would have moved it to dispatched;
- packed batches have theirs on closed or stored pallets (stored ones in a cold-store room of their
  packhouse), except the ones packed in the last OPEN_HOURS, which sit on open pallets still being built,
  and one in UNPALLETISED_EVERY (by id) that is not on pallets yet;
- a pallet carries the lines of 1 to 3 batches of one packhouse and fruit (mixed pallets), one line per
  grade with kg: the batch's whole pack-out of that grade, so no grade is ever over its pack-out;
- SSCCs come from the company's serial counter (`sscc_counter`, advanced by the number issued) in build
  order, composed by pallets.sscc with the GS1 check digit; load numbers (L2026-00001) from
  `load_counters`, per year of the load's local creation day, so the next pallet or load built through
  the services gets the next number;
- each pallet has the history the services write (built, line_added per line, closed, moved, loaded,
  dispatched, with their payloads) and its `version` counts the changes; each load has 16 to 22 pallets.

Idempotent: only batches with no pallet line that the rule above palletises get pallets; rooms are made
through the service when missing.
"""

import json
import shutil
import sys
import zlib
from collections import defaultdict
from datetime import datetime

from django.db import connection
from stdnum import iso6346
from tqdm import tqdm

from core.cache import bump
from packhouses.models import Packhouse
from pallets import sscc
from pallets.models import Pallet, PalletHistory, PalletStatus, Room
from pallets.services import create_room

from .bulk import NULL, Timestamps, _copy_lines, copy_text, foreign_keys_validated_after, raw_connection
from .errors import SeedError

ROOMS = (("CR1", "Cold room 1", 600), ("CR2", "Cold room 2", 600), ("CR3", "Cold room 3", 400),
         ("PC1", "Pre-cooler", 200))
# GS1 South Africa's prefixes start 600/601; the demo's are made up (see docs/PERFORMANCE.md).
DEMO_PREFIX_HEAD = "6009"
OPEN_HOURS = 12  # packed this recently: its pallet is still being built
UNPALLETISED_EVERY = 5  # packed batches with id % 5 == 0 wait for pallets
BATCHES_PER_PALLET = (1, 1, 2, 2, 3)
PALLETS_PER_LOAD = (16, 22)
CARTON_KG = {"apple": 12.5, "pear": 12.5, "citrus": 15.0, "stone_fruit": 5.0, "grape": 4.5, "avocado": 4.0,
             "kiwifruit": 3.3}
GRADES = ("class1", "class2", "class3")
CHUNK = 20_000  # pallets per COPY round
DESTINATIONS = (("Rotterdam", "Fruit Trade Europe BV"), ("London Gateway", "Capespan UK Ltd"),
                ("Antwerp", "Belfruit NV"), ("Jebel Ali", "Gulf Fresh LLC"), ("Hong Kong", "Orient Produce Ltd"),
                ("Durban", "Local Market Agents"), ("Cape Town", "Cape Town Market"))
CONTAINER_OWNERS = ("MSKU", "MAEU", "CMAU", "HLXU", "MSCU")
PALLET_COLUMNS = ("id", "sscc", "packhouse_id", "built_at", "built_by_id", "status", "room_id", "version",
                  "updated_at")
LINE_COLUMNS = ("id", "pallet_id", "batch_id", "grade", "cartons", "kg", "added_at")
HISTORY_COLUMNS = ("pallet_id", "event", "payload", "recorded_at", "recorded_by_id")
LOAD_COLUMNS = ("id", "load_number", "packhouse_id", "vehicle_registration", "container_number", "seal_number",
                "destination", "consignee", "planned_departure", "status", "dispatched_at", "dispatched_by_id",
                "created_at", "created_by_id", "updated_at", "version")
LOAD_PALLET_COLUMNS = ("load_id", "pallet_id", "added_at", "added_by_id")
TABLES = ("loads", "pallets", "pallet_lines", "load_pallets", "pallet_history")
Event = PalletHistory.Event
_dumps = json.JSONEncoder(check_circular=False, separators=(", ", ": ")).encode


def demo_prefix(schema):
    """A 7-digit GS1 company prefix made up for a demo company, the same for a schema on every machine."""
    return f"{DEMO_PREFIX_HEAD}{zlib.crc32(schema.encode()) % 1000:03d}"


def ensure_gs1_prefix(company):
    """Give a demo company a made-up GS1 prefix when it has none (pallets need one). Returns it."""
    if not company.gs1_company_prefix:
        from tenants.models import Company  # the public table; django-tenants keeps public on the search path

        company.gs1_company_prefix = demo_prefix(company.schema_name)
        Company.objects.filter(pk=company.pk).update(gs1_company_prefix=company.gs1_company_prefix)
    return company.gs1_company_prefix


def ensure_rooms(packhouses):
    """{packhouse id: [room id]} of the demo rooms, made through the service when missing. Returns (rooms, new)."""
    made = 0
    have = {(room.packhouse_id, room.code): room for room in Room.objects.filter(packhouse__in=packhouses)}
    rooms = {}
    for packhouse in packhouses:
        for code, name, capacity in ROOMS:
            room = have.get((packhouse.pk, code))
            if room is None:
                room = create_room(packhouse=packhouse, code=code, name=name, capacity=capacity)
                made += 1
            if room.active:
                rooms.setdefault(packhouse.pk, []).append((room.pk, room.code))
    return rooms, made


def _json(payload):
    return _dumps(payload).replace("\\", "\\\\")


def _kg(cents):
    return f"{cents // 100}.{cents % 100:02d}"


class PalletLoader:
    """Pallets, lines, loads and their history for the packed and dispatched batches that have none."""

    def __init__(self, seeder, packhouses):
        self.seed_packhouses = packhouses
        self.seeder = seeder
        self.rng = seeder.rng
        self.out = seeder.out
        self.progress = seeder.progress
        self.report = seeder.report
        self.now = seeder.now
        self.tz = seeder.tz
        self.packhouses = {p.pk: p for p in Packhouse.objects.all()}

    def run(self, users):
        prefix = ensure_gs1_prefix(self.seeder.company)
        self.extension = self.seeder.company.sscc_extension_digit
        self.prefix = prefix
        self.rooms, self.report.rooms_created = ensure_rooms(self.seed_packhouses)
        self.users = users
        batches = self._batches()
        if not batches:
            self.out(f"Pallets: every packed or dispatched batch that goes on pallets is on one "
                     f"({Pallet.objects.count()} pallets).")
            return
        pallets, loads = self._plan(batches)
        self.out(f"Pallets: {len(batches)} batches to palletise: {len(pallets)} pallets on {len(loads)} loads...")
        with foreign_keys_validated_after(TABLES):
            with connection.cursor() as cursor:
                # The per-row trigger would sum and lock per line; one set-based check after the load instead.
                cursor.execute("ALTER TABLE pallet_lines DISABLE TRIGGER pallet_lines_within_packout")
            self._write(pallets, loads, len(batches))
            with connection.cursor() as cursor:
                cursor.execute("ALTER TABLE pallet_lines ENABLE TRIGGER pallet_lines_within_packout")
                over = self._over_packout(cursor)
            if over:

                raise SeedError(f"Pallet lines over the pack-out (a bug), nothing was written: {over}")
        bump("pallets")
        bump("rooms")
        bump("loads")
        self.out(f"Pallets: {self.report.pallets_created} added with {self.report.pallet_lines_created} lines, "
                 f"{self.report.loads_created} loads.")

    @staticmethod
    def _over_packout(cursor):
        cursor.execute(
            "SELECT l.batch_id, l.grade, sum(l.kg) FROM pallet_lines l JOIN batches b ON b.id = l.batch_id "
            "GROUP BY l.batch_id, l.grade, b.class1_kg, b.class2_kg, b.class3_kg "
            "HAVING sum(l.kg) > COALESCE(CASE l.grade WHEN 'class1' THEN b.class1_kg WHEN 'class2' THEN b.class2_kg "
            "WHEN 'class3' THEN b.class3_kg END, 0) LIMIT 3"
        )
        return cursor.fetchall()

    def _batches(self):
        """Packed and dispatched batches with a pack-out and no pallet line, which the seed palletises."""
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT b.id, b.batch_code, b.packhouse_id, b.fruit_type, b.status, "
                "round(COALESCE(b.class1_kg, 0) * 100)::bigint, round(COALESCE(b.class2_kg, 0) * 100)::bigint, "
                "round(COALESCE(b.class3_kg, 0) * 100)::bigint, "
                "extract(epoch FROM h.packed)::bigint, extract(epoch FROM h.dispatched)::bigint "
                "FROM batches b JOIN ("
                "  SELECT batch_id, max(recorded_at) FILTER (WHERE to_status = 'packed') AS packed, "
                "         max(recorded_at) FILTER (WHERE to_status = 'dispatched') AS dispatched "
                "  FROM batch_history WHERE to_status IN ('packed', 'dispatched') GROUP BY batch_id"
                ") h ON h.batch_id = b.id "
                "WHERE b.status IN ('packed', 'dispatched') "
                "AND COALESCE(b.class1_kg, 0) + COALESCE(b.class2_kg, 0) + COALESCE(b.class3_kg, 0) > 0 "
                "AND NOT (b.status = 'packed' AND b.id %% %s = 0) "
                "AND NOT EXISTS (SELECT 1 FROM pallet_lines l WHERE l.batch_id = b.id) "
                "ORDER BY b.id",
                [UNPALLETISED_EVERY],
            )
            rows = cursor.fetchall()
        # A batch's packed time may be missing from a history the seed did not write: its id order stands in.
        return [row for row in rows if row[8] is not None]

    def _plan(self, batches):
        """[pallet dict] in build order and [load dict]; nothing written yet."""
        rng, now = self.rng, int(self.now.timestamp())
        open_after = now - OPEN_HOURS * 3600
        streams = defaultdict(list)
        for row in batches:
            _, _, packhouse, fruit, status, _, _, _, packed, dispatched = row
            fate = "dispatched" if status == "dispatched" else ("open" if packed >= open_after else "closed")
            streams[(packhouse, fruit, fate)].append(row)
        pallets = []
        for (packhouse, fruit, fate), rows in streams.items():
            rows.sort(key=lambda r: (r[9] or r[8], r[0]) if fate == "dispatched" else (r[8], r[0]))
            rooms = self.rooms.get(packhouse, [])
            start = 0
            while start < len(rows):
                take = rng.choice(BATCHES_PER_PALLET)
                group = rows[start:start + take]
                start += take
                built = min(now - 120, max(r[8] for r in group) + rng.randint(60, 1800))
                stored = False
                pallet = {"packhouse": packhouse, "fruit": fruit, "batches": group, "built": built,
                          "closed": min(now - 90, built + rng.randint(600, 3600)), "room": None}
                if fate == "open":
                    pallet["status"] = PalletStatus.OPEN
                elif fate == "closed":
                    stored = rooms and rng.random() < 0.8
                    pallet["status"] = PalletStatus.STORED if stored else PalletStatus.CLOSED
                else:
                    pallet["status"] = PalletStatus.DISPATCHED
                    pallet["leaves"] = max(r[9] or r[8] for r in group)
                    stored = rooms and rng.random() < 0.9
                if stored:
                    pallet["room"] = rng.choice(rooms)
                    pallet["moved"] = min(now - 60, pallet["closed"] + rng.randint(300, 1800))
                pallets.append(pallet)
        loads = self._loads([p for p in pallets if p["status"] == PalletStatus.DISPATCHED])
        pallets.sort(key=lambda p: (p["built"], p["packhouse"]))
        return pallets, loads

    def _loads(self, dispatched):
        rng, now = self.rng, int(self.now.timestamp())
        by_packhouse = defaultdict(list)
        for pallet in dispatched:
            by_packhouse[pallet["packhouse"]].append(pallet)
        loads = []
        for packhouse, pallets in by_packhouse.items():
            pallets.sort(key=lambda p: p["leaves"])
            start = 0
            while start < len(pallets):
                group = pallets[start:start + rng.randint(*PALLETS_PER_LOAD)]
                start += len(group)
                ready = max(p.get("moved", p["closed"]) for p in group)
                created = min(now - 600, max(ready + 60, min(p["leaves"] for p in group) - rng.randint(3600, 6 * 3600)))
                dispatched_at = min(now - 1, max(created + len(group) * 120 + 600, max(p["leaves"] for p in group)))
                destination, consignee = rng.choice(DESTINATIONS)
                load = {"packhouse": packhouse, "pallets": group, "created": created, "dispatched": dispatched_at,
                        "destination": destination, "consignee": consignee}
                for n, pallet in enumerate(group):
                    pallet["load"] = load
                    pallet["loaded"] = min(dispatched_at - 1, created + 60 + n * 90)
                loads.append(load)
        loads.sort(key=lambda load: (load["created"], load["packhouse"]))
        return loads

    # --- numbers -------------------------------------------------------------------------------------------

    def _reserve_ids(self, table, count):
        if not count:
            return []
        with connection.cursor() as cursor:
            cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                           [table, count])
            return sorted(row[0] for row in cursor.fetchall())

    def _reserve_serials(self, count):
        """The next `count` SSCC serial references, as issue_sscc takes them one at a time."""
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO sscc_counter (id, last_serial) VALUES (1, %s) ON CONFLICT (id) DO UPDATE "
                "SET last_serial = sscc_counter.last_serial + EXCLUDED.last_serial RETURNING last_serial",
                [count],
            )
            last = cursor.fetchone()[0]
        if last > sscc.max_serial(self.prefix):

            raise SeedError(f"The SSCC serials of prefix {self.prefix} are used up; nothing was written.")
        return range(last - count + 1, last + 1)

    def _load_numbers(self, loads):
        """L<year>-<n> in creation order, per year of the local creation day, from the year's counter."""
        per_year = defaultdict(list)
        for load in loads:
            year = datetime.fromtimestamp(load["created"], self.tz).year
            per_year[year].append(load)
        with connection.cursor() as cursor:
            for year, year_loads in per_year.items():
                cursor.execute(
                    "INSERT INTO load_counters (year, last_number) VALUES (%s, %s) ON CONFLICT (year) DO UPDATE "
                    "SET last_number = load_counters.last_number + EXCLUDED.last_number RETURNING last_number",
                    [year, len(year_loads)],
                )
                last = cursor.fetchone()[0]
                for number, load in enumerate(year_loads, start=last - len(year_loads) + 1):
                    load["number"] = f"L{year}-{number:05d}"

    # --- COPY ------------------------------------------------------------------------------------------------

    def _write(self, pallets, loads, batch_count):
        rng = self.rng
        self._load_numbers(loads)
        load_ids = self._reserve_ids("loads", len(loads))
        stamp = Timestamps()
        user = self.users[0]
        user_text = NULL if user is None else str(user)
        load_lines = []
        for load_id, load in zip(load_ids, loads, strict=True):
            load["id"] = load_id
            owner = rng.choice(CONTAINER_OWNERS)
            body = f"{owner}{rng.randrange(10 ** 6):06d}"
            container = body + iso6346.calc_check_digit(body)
            registration = f"CA {rng.randrange(100, 1000)}-{rng.randrange(100, 1000)}"
            seal = f"SL{rng.randrange(10 ** 7):07d}"
            dispatched = stamp(load["dispatched"])
            load_lines.append(
                f"{load_id}\t{load['number']}\t{load['packhouse']}\t{registration}\t{container}\t{seal}\t"
                f"{copy_text(load['destination'])}\t{copy_text(load['consignee'])}\t{dispatched}\tdispatched\t"
                f"{dispatched}\t{user_text}\t{stamp(load['created'])}\t{user_text}\t{dispatched}\t"
                f"{len(load['pallets']) + 2}\n"
            )
        raw = raw_connection()
        size = shutil.get_terminal_size((100, 24))
        bar = tqdm(total=batch_count, unit=" batches", file=sys.stderr, disable=None if self.progress else True,
                   mininterval=0.5, ncols=min(size.columns, 120), nrows=size.lines)
        with bar, raw.cursor() as cursor:
            _copy_lines(cursor, "loads", LOAD_COLUMNS, load_lines)
            self.report.loads_created += len(load_lines)
            for start in range(0, len(pallets), CHUNK):
                chunk = pallets[start:start + CHUNK]
                lines = self._chunk_lines(chunk, stamp, user_text)
                for table, columns in (("pallets", PALLET_COLUMNS), ("pallet_lines", LINE_COLUMNS),
                                       ("load_pallets", LOAD_PALLET_COLUMNS), ("pallet_history", HISTORY_COLUMNS)):
                    _copy_lines(cursor, table, columns, lines[table])
                self.report.pallets_created += len(chunk)
                self.report.pallet_lines_created += len(lines["pallet_lines"])
                done = sum(len(p["batches"]) for p in chunk)
                bar.update(done)
                if bar.disable and self.progress:
                    self.out(f"  {self.report.pallets_created} of {len(pallets)} pallets written.")

    def _chunk_lines(self, chunk, stamp, user_text):
        pallet_ids = self._reserve_ids("pallets", len(chunk))
        serials = self._reserve_serials(len(chunk))
        line_count = sum(1 for p in chunk for row in p["batches"] for cents in row[5:8] if cents)
        line_ids = iter(self._reserve_ids("pallet_lines", line_count))
        packhouses = self.packhouses
        pallet_lines, line_lines, load_lines, history = [], [], [], []
        for pallet_id, serial, pallet in zip(pallet_ids, serials, chunk, strict=True):
            code = sscc.compose(self.extension, self.prefix, serial)
            built = stamp(pallet["built"])
            history.append(f"{pallet_id}\t{Event.BUILT}\t"
                           f"{_json({'sscc': code, 'packhouse': packhouses[pallet['packhouse']].code})}\t"
                           f"{built}\t{user_text}\n")
            carton_kg = CARTON_KG.get(pallet["fruit"], 10.0)
            version = 1
            cartons_total = kg_total = 0
            added = pallet["built"]
            for row in pallet["batches"]:
                for grade, cents in zip(GRADES, row[5:8], strict=True):
                    if not cents:
                        continue
                    line_id = next(line_ids)
                    cartons = max(1, round(cents / 100 / carton_kg))
                    added = min(pallet["closed"] - 1, added + 20)
                    at, kg = stamp(added), _kg(cents)
                    line_lines.append(f"{line_id}\t{pallet_id}\t{row[0]}\t{grade}\t{cartons}\t{kg}\t{at}\n")
                    payload = {"line": line_id, "batch": row[1], "grade": grade, "cartons": cartons, "kg": kg}
                    history.append(f"{pallet_id}\t{Event.LINE_ADDED}\t{_json(payload)}\t{at}\t{user_text}\n")
                    version += 1
                    cartons_total += cartons
                    kg_total += cents
            last = added
            status = pallet["status"]
            if status != PalletStatus.OPEN:
                last = pallet["closed"]
                history.append(f"{pallet_id}\t{Event.CLOSED}\t"
                               f"{_json({'cartons': cartons_total, 'kg': _kg(kg_total)})}\t{stamp(last)}\t"
                               f"{user_text}\n")
                version += 1
            room = pallet["room"]
            if room is not None:
                last = pallet["moved"]
                history.append(f"{pallet_id}\t{Event.MOVED}\t{_json({'from_room': None, 'to_room': room[1]})}\t"
                               f"{stamp(last)}\t{user_text}\n")
                version += 1
            load = pallet.get("load")
            if load is not None:
                loaded = stamp(pallet["loaded"])
                payload = {"load": load["number"], "from_status": "stored" if room else "closed",
                           "room": room[1] if room else None}
                history.append(f"{pallet_id}\t{Event.LOADED}\t{_json(payload)}\t{loaded}\t{user_text}\n")
                load_lines.append(f"{load['id']}\t{pallet_id}\t{loaded}\t{user_text}\n")
                last = load["dispatched"]
                history.append(f"{pallet_id}\t{Event.DISPATCHED}\t{_json({'load': load['number']})}\t"
                               f"{stamp(last)}\t{user_text}\n")
                version += 2
            pallet_lines.append(f"{pallet_id}\t{code}\t{pallet['packhouse']}\t{built}\t{user_text}\t{status}\t"
                                f"{room[0] if room else NULL}\t{version}\t{stamp(last)}\n")
        return {"pallets": pallet_lines, "pallet_lines": line_lines, "load_pallets": load_lines,
                "pallet_history": history}

