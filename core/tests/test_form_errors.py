"""A form with errors starts with a summary that links to each field (templates/includes/form_errors.html)."""

import re


def test_the_summary_counts_the_problems_and_links_each_to_its_field(acme):
    client = acme.client("Clerk")
    key = re.search(r'name="idempotency_key" value="([0-9a-f]+)"', client.get("/batches/new/").content.decode())
    response = client.post("/batches/new/", {"idempotency_key": key.group(1), "gross_weight_kg": "abc"})

    html = response.content.decode()
    summary = re.search(r'<div class="error-summary".*?</div>', html, re.S).group(0)
    assert 'tabindex="-1"' in summary and "data-error-summary" in summary
    links = re.findall(r'<a href="#(id_\w+)">([^<]*)</a>', summary)
    fields = {target for target, _ in links}
    assert {"id_block", "id_gross_weight_kg", "id_tare_weight_kg", "id_bin_count"} <= fields
    assert re.search(r"There are \d+ problems", summary)
    for target, _ in links:
        assert f'id="{target}"' in html
    # The summary comes before the first field.
    assert html.index("error-summary") < html.index('id="id_block"')


def test_a_form_without_errors_has_no_summary(acme):
    assert "error-summary" not in acme.client("Clerk").get("/batches/new/").content.decode()
