"""The intake page works from the keyboard alone, and every field has a label."""

import pytest
from playwright.sync_api import expect

from browser.helpers import CLERK, login

pytestmark = pytest.mark.browser

FOCUSED_TEXT = "() => (document.activeElement.innerText || '').trim()"
# Every field of the intake form, tagged so the Tab walk below can tell which one has the focus.
TAG_FIELDS = """(form) => {
  const fields = [...form.querySelectorAll('input, select, textarea')]
    .filter((el) => el.type !== 'hidden' && !el.disabled);
  return fields.map((el, i) => {
    el.dataset.kbField = String(i);
    const labels = [...(el.labels || [])].map((label) => label.innerText.trim()).filter(Boolean);
    return {name: el.name || el.id, labels};
  });
}"""
FOCUSED_FIELD = "() => document.activeElement.dataset.kbField ?? null"


def test_intake_form_is_reachable_by_tab_and_labelled(page):
    login(page, CLERK)
    page.goto("/batches/new/")
    form = page.locator("main form").filter(has=page.get_by_role("button", name="Record intake"))
    expect(form).to_have_count(1)

    # The first Tab from the top of the page lands on the skip link.
    page.keyboard.press("Tab")
    assert page.evaluate(FOCUSED_TEXT) == "Skip to content"

    fields = form.evaluate(TAG_FIELDS)
    assert len(fields) >= 8, fields
    unlabelled = [field["name"] for field in fields if not field["labels"]]
    assert not unlabelled, f"fields without a <label>: {unlabelled}"

    reached = set()
    for _ in range(100):
        page.keyboard.press("Tab")
        index = page.evaluate(FOCUSED_FIELD)
        if index is not None:
            reached.add(int(index))
        if len(reached) == len(fields):
            break
    missed = [field["name"] for i, field in enumerate(fields) if i not in reached]
    assert not missed, f"fields Tab never reaches: {missed}"
