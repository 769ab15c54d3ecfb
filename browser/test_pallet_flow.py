"""A clerk's whole day with one pallet, in the pages: from two packed batches to the recall trace.

Two deliveries from one block are taken to packed; a pallet is built at the packhouse from lines of both,
closed, its label print-rendered and its GS1-128 symbols decoded; it is scanned into a cold-store room,
scanned onto a load, the load is dispatched, and the trace of the block finds the pallet, the load and both
batches. Each step asserts what the clerk sees and what the database now holds (read straight from the
browser run's database, schema acme).
"""

import contextlib
import os
import re
from decimal import Decimal

import psycopg
import pytest
from playwright.sync_api import Browser, Page, expect

from browser.conftest import DB_PREFIX, SCREENSHOTS, TIMEOUT_MS, with_database
from browser.helpers import CLERK, MANAGER, SCHEMA, TIME_ZONE, company_today, login
from browser.test_label import decoded
from core.numbers import format_number

pytestmark = pytest.mark.browser

BLOCK = "G0003-F1/B01"
GROWER = "G0003"
PACKHOUSE = "PH2 Riverside"
ROOM = "CR7"
CONTAINER = "CSQU3054383"  # ISO 6346's own example: check digit 3
SEAL = "ZA-778812"
SSCC = re.compile(r"^\d{18}$")
LOAD_NUMBER = re.compile(r"^L\d{4}-\d{5}$")
BATCH_CODE = re.compile(r"PH2-\d{8}-\d{4}")

# (gross, tare, bins, class 1, class 2, class 3, waste): each pack-out adds up to the net, as DESIGN.md's
# mass balance wants; every class kg goes on the pallet, so dispatching it dispatches both batches.
DELIVERIES = [
    ("4200", "400", "10", "2800", "600", "0", "400"),
    ("3000", "300", "7", "2000", "400", "0", "300"),
]
# (delivery, grade, cartons, kg) of the pallet's lines.
LINES = [(0, "Class 1", 140, "2800"), (0, "Class 2", 30, "600"), (1, "Class 1", 100, "2000"),
         (1, "Class 2", 20, "400")]
CARTONS = sum(line[2] for line in LINES)
KG = sum(Decimal(line[3]) for line in LINES)


def za(kg):
    """kg as the company's locale (en-ZA) writes it on pages: "5 800,00"."""
    return format_number(Decimal(kg), places=2, locale_tag="en-ZA")


@pytest.fixture
def db(live_url):
    """Rows of the browser run's database, in the company's schema."""
    url = with_database(os.environ["DATABASE_URL"], f"{DB_PREFIX}{os.getpid()}")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"SET search_path TO {SCHEMA}, public")

        def rows(query, *params):
            return conn.execute(query, params).fetchall()

        yield rows


@pytest.fixture
def sharp(browser: Browser, live_url, request):
    """A clerk's page at 4 device pixels per CSS pixel, so a printed bar is several pixels wide; a full-page
    screenshot in test-artifacts/screenshots/ if the test fails, as conftest's `page` leaves."""
    context = browser.new_context(base_url=live_url, device_scale_factor=4, locale="en-ZA",
                                  timezone_id=TIME_ZONE, viewport={"width": 1000, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    yield page
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / (re.sub(r"[^\w.-]+", "_", request.node.name) + ".png")
        with contextlib.suppress(Exception):
            page.screenshot(path=path, full_page=True)
            print(f"screenshot: {path} (at {page.url})")
    context.close()


# A double submit, as an impatient double press or a flaky network sends it: the form's body twice, at once.
SUBMIT_TWICE = """async (selector) => {
    const form = document.querySelector(selector);
    const send = () => fetch(form.action, {method: "POST", body: new FormData(form)});
    const answers = await Promise.all([send(), send()]);
    return answers.map((answer) => [answer.status, answer.url]);
}"""


def submit_twice(page: Page, selector):
    """Post the form twice concurrently; both answers must land on the same page, which is then shown."""
    answers = page.evaluate(SUBMIT_TWICE, selector)
    assert [status for status, _ in answers] == [200, 200], answers
    assert answers[0][1] == answers[1][1], answers
    page.goto(answers[0][1])


def deliver_and_pack(page: Page, gross, tare, bins, class1, class2, class3, waste):
    """Record an intake of BLOCK at PH2 and take it to packed, as test_intake does; its batch code."""
    page.goto("/batches/new/")
    page.get_by_label(re.compile(r"^Block\b")).fill(BLOCK)
    page.get_by_label("Packhouse").select_option(label=PACKHOUSE)
    page.get_by_label("Harvest date").fill(company_today().isoformat())
    page.get_by_label(re.compile(r"^Bins\b")).fill(bins)
    page.get_by_label("Gross weight (kg)").fill(gross)
    page.get_by_label("Tare weight (kg)").fill(tare)
    page.get_by_role("button", name="Record intake").click()
    code = page.get_by_test_id("batch-code")
    expect(code).to_have_text(BATCH_CODE)
    batch_code = code.inner_text().strip()
    page.get_by_role("link", name="Open batch").click()
    page.get_by_role("button", name="Start grading").click()
    expect(page.get_by_test_id("status")).to_have_text("Grading")
    page.get_by_label("Class 1 (kg)").fill(class1)
    page.get_by_label("Class 2 (kg)").fill(class2)
    page.get_by_label("Class 3 (kg)").fill(class3)
    page.get_by_label("Waste (kg)").fill(waste)
    page.get_by_role("button", name="Save pack-out").click()
    expect(page.get_by_test_id("packout-percent")).to_be_visible()
    page.get_by_role("button", name="Start packing").click()
    expect(page.get_by_test_id("status")).to_have_text("Packing")
    page.get_by_role("button", name="Mark packed").click()
    expect(page.get_by_test_id("status")).to_have_text("Packed")
    return batch_code


def add_room(browser: Browser, live_url):
    """Rooms are the manager's: CR7 at PH2, added in the room form."""
    context = browser.new_context(base_url=live_url)
    page = context.new_page()
    try:
        login(page, MANAGER)
        page.goto("/pallets/rooms/new/")
        page.get_by_label(re.compile(r"^Packhouse")).select_option(label=PACKHOUSE)
        page.get_by_label(re.compile(r"^Code")).fill(ROOM)
        page.get_by_label(re.compile(r"^Name")).fill("Riverside cold room 7")
        page.get_by_label(re.compile(r"^Capacity")).fill("40")
        page.get_by_role("button", name="Save room").click()
        expect(page.locator("main")).to_contain_text(f"Room {ROOM} added.")
    finally:
        context.close()


def test_a_pallet_from_two_batches_to_a_dispatched_load_and_back_through_the_trace(sharp, browser, live_url, db):
    page = sharp
    add_room(browser, live_url)
    login(page, CLERK)

    # Two deliveries of one block, packed.
    codes = [deliver_and_pack(page, *delivery) for delivery in DELIVERIES]
    assert db("SELECT batch_code, status, class1_kg + class2_kg + class3_kg + waste_kg = net_weight_kg "
              "FROM batches WHERE batch_code = ANY(%s) ORDER BY batch_code", codes) == [
        (code, "packed", True) for code in sorted(codes)]

    # Build the pallet at PH2, the form sent twice: one pallet, one SSCC.
    serial_before = db("SELECT coalesce(max(last_serial), 0) FROM sscc_counter")[0][0]
    page.goto("/pallets/")
    page.get_by_role("link", name="Build pallet").click()
    page.get_by_label(re.compile(r"^Packhouse")).select_option(label=PACKHOUSE)
    submit_twice(page, "main form[method=post]")
    expect(page.get_by_test_id("status")).to_have_text("Open")
    sscc = page.get_by_test_id("sscc").inner_text().strip()
    assert SSCC.match(sscc)
    assert db("SELECT count(*) FROM pallets p JOIN packhouses h ON h.id = p.packhouse_id WHERE h.code = 'PH2'"
              ) == [(1,)]
    assert db("SELECT last_serial FROM sscc_counter")[0][0] == serial_before + 1
    (pallet_id, status), = db("SELECT id, status FROM pallets WHERE sscc = %s", sscc)
    assert status == "open"

    # Its lines, from both batches; the page shows what is left of each batch to palletise.
    remaining = page.get_by_test_id("remaining")
    for code in codes:
        expect(remaining.get_by_role("row").filter(has_text=code)).to_be_visible()
    for number, (delivery, grade, cartons, kg) in enumerate(LINES):
        page.get_by_role("combobox", name=re.compile(r"^Packed batch")).select_option(label=codes[delivery])
        page.get_by_label(re.compile(r"^Grade")).select_option(label=grade)
        page.get_by_label(re.compile(r"^Cartons")).fill(str(cartons))
        page.get_by_label(re.compile(r"^kg")).fill(kg)
        if number == 0:  # the first line's form sent twice: one line (checked in the database below)
            submit_twice(page, f"form[action$='/pallets/{pallet_id}/lines/']")
            continue
        page.get_by_role("button", name="Add line").click()
        expect(page.locator("main")).to_contain_text(f"{za(kg)} kg of {codes[delivery]} added.")
    expect(page.get_by_test_id("cartons")).to_have_text(str(CARTONS))
    expect(page.get_by_test_id("kg")).to_have_text(za(KG))
    # Nothing of either batch is left to put on a pallet.
    for code in codes:
        expect(remaining.get_by_role("row").filter(has_text=code)).to_have_count(0)
    assert db("SELECT b.batch_code, l.grade, l.cartons, l.kg FROM pallet_lines l JOIN batches b ON b.id = l.batch_id "
              "WHERE l.pallet_id = %s ORDER BY l.id", pallet_id) == [
        (codes[delivery], f"class{grade[-1]}", cartons, Decimal(kg)) for delivery, grade, cartons, kg in LINES]

    # Close it.
    page.get_by_role("button", name="Close pallet").click()
    expect(page.locator("main")).to_contain_text(f"Pallet {sscc} closed: print its label.")
    expect(page.get_by_test_id("status")).to_have_text("Closed")
    assert db("SELECT status FROM pallets WHERE id = %s", pallet_id) == [("closed",)]

    # Its label, as the printer gets it: the GS1-128 symbols carry the SSCC, pack date and cartons (no (10):
    # the pallet holds two batches); the text lists both batches.
    page.get_by_role("link", name="Label").click()
    page.emulate_media(media="print")
    expect(page.get_by_test_id("sscc")).to_have_text(sscc)
    packed = page.locator("dt:text-is('Packed') + dd").inner_text().strip()
    for code in codes:
        expect(page.locator("main.label")).to_contain_text(code)
    found = {}
    symbols = page.locator("main.label figure.barcode svg")
    assert symbols.count() == 2
    for index in range(symbols.count()):
        found.update(decoded(symbols.nth(index).screenshot(scale="device")))
    assert found == {"00": sscc, "13": packed[2:].replace("-", ""), "37": str(CARTONS)}
    page.emulate_media(media="screen")

    # Into the cold store by scanning: the SSCC and Enter moves to the room field, the room and Enter moves it.
    page.goto("/pallets/")
    page.get_by_role("link", name="Move by scanning").click()
    page.get_by_label(re.compile(r"^Pallet SSCC")).fill(sscc)
    page.get_by_label(re.compile(r"^Pallet SSCC")).press("Enter")
    expect(page.get_by_label(re.compile(r"^Room code"))).to_be_focused()
    page.keyboard.type(ROOM.lower())
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_contain_text(f"Pallet {sscc} is in room {ROOM}.")
    assert db("SELECT p.status, r.code FROM pallets p JOIN rooms r ON r.id = p.room_id WHERE p.id = %s",
              pallet_id) == [("stored", ROOM)]
    assert db("SELECT payload->>'to_room' FROM pallet_history WHERE pallet_id = %s AND event = 'moved'",
              pallet_id) == [(ROOM,)]

    # A load at PH2, with its container and seal.
    page.goto("/loads/")
    page.get_by_role("link", name="New load").click()
    page.get_by_label(re.compile(r"^Packhouse")).select_option(label=PACKHOUSE)
    page.get_by_label(re.compile(r"^Vehicle registration")).fill("CA 123-456")
    page.get_by_label(re.compile(r"^Container number")).fill(CONTAINER)
    page.get_by_label(re.compile(r"^Seal number")).fill(SEAL)
    page.get_by_label(re.compile(r"^Destination")).fill("Rotterdam")
    page.get_by_label(re.compile(r"^Consignee")).fill("Fresh Imports BV")
    page.get_by_role("button", name="Create load").click()
    load_number = page.get_by_test_id("load-number").inner_text().strip()
    assert LOAD_NUMBER.match(load_number)
    expect(page.get_by_test_id("status")).to_have_text("Planning")

    # The pallet onto it: the scan box has the focus; the scanner types the SSCC and Enter.
    scan = page.get_by_label(re.compile(r"^Scan a pallet's SSCC"))
    expect(scan).to_be_focused()
    page.keyboard.type(sscc)
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_contain_text(f"Pallet {sscc} is on load {load_number}.")
    expect(page.get_by_test_id("pallets")).to_have_text("1")
    expect(page.get_by_test_id("cartons")).to_have_text(str(CARTONS))
    expect(page.get_by_role("row").filter(has_text=sscc)).to_contain_text(", ".join(sorted(codes)))
    assert db("SELECT p.status FROM load_pallets lp JOIN loads l ON l.id = lp.load_id "
              "JOIN pallets p ON p.id = lp.pallet_id WHERE l.load_number = %s", load_number) == [("loaded",)]

    # Dispatch: the load leaves with its pallet, and both batches, now wholly on it, are dispatched.
    page.get_by_label(re.compile(r"The load has left")).check()
    page.get_by_role("button", name="Dispatch load").click()
    expect(page.locator("main")).to_contain_text(f"Load {load_number} dispatched.")
    expect(page.get_by_test_id("status")).to_have_text("Dispatched")
    for code in codes:
        expect(page.locator("main")).to_contain_text(code)
    assert db("SELECT status, container_number, seal_number, dispatched_at IS NOT NULL FROM loads "
              "WHERE load_number = %s", load_number) == [("dispatched", CONTAINER, SEAL, True)]
    assert db("SELECT status FROM pallets WHERE id = %s", pallet_id) == [("dispatched",)]
    assert db("SELECT batch_code, status FROM batches WHERE batch_code = ANY(%s) ORDER BY batch_code", codes) == [
        (code, "dispatched") for code in sorted(codes)]

    # The recall trace of the block: the pallet, the load and both batches, balanced.
    for query in (BLOCK, GROWER):
        page.goto("/trace/")
        page.get_by_role("searchbox").or_(page.get_by_label(re.compile(r"^Batch, bin, SSCC"))).first.fill(query)
        page.get_by_role("button", name="Trace").click()
        expect(page.get_by_test_id("summary")).to_be_visible()
        batches = page.get_by_test_id("batches")
        for code in codes:
            row = batches.get_by_role("row").filter(has_text=code)
            expect(row).to_contain_text("Dispatched")
            expect(row).to_contain_text("Balanced")
        downstream = page.get_by_test_id("downstream")
        for delivery, grade, cartons, kg in LINES:
            row = (downstream.get_by_role("row").filter(has_text=codes[delivery]).filter(has_text=grade)
                   .filter(has_text=sscc))
            expect(row).to_have_count(1)
            expect(row).to_contain_text(load_number)
            expect(row).to_contain_text(ROOM)
            expect(row.get_by_role("cell").nth(3)).to_have_text(str(cartons))
            expect(row.get_by_role("cell").nth(4)).to_have_text(za(kg))
        expect(page.locator("main")).to_contain_text("Consignees: Fresh Imports BV")
