"""The grower picker of the payment, reconciliation and QC forms: by code or by name, and it says whom it found."""

import pytest
from django import forms

from growers.fields import GrowerCodeField, grower_label
from growers.tests.factories import GrowerFactory


class PickerForm(forms.Form):
    grower = GrowerCodeField()
    other = forms.IntegerField()


@pytest.fixture
def growers(acme):
    with acme:
        yield {
            "oak": GrowerFactory(code="G0042", name="Oak Farm"),
            "paarde1": GrowerFactory(code="G0019", name="Paardekloof"),
            "paarde2": GrowerFactory(code="G0044", name="Paardekloof"),
            "river": GrowerFactory(code="G0050", name="Riverbend Orchards"),
        }


@pytest.mark.parametrize("typed", ["G0042", "g0042", "G0042 · Oak Farm", "G0042 — Oak Farm", "oak farm", " Oak  Farm "])
def test_a_code_a_picked_suggestion_or_a_name_only_one_grower_has_finds_the_grower(acme, growers, typed):
    with acme:
        form = PickerForm({"grower": typed, "other": "1"})
        assert form.is_valid(), form.errors
        assert form.cleaned_data["grower"] == growers["oak"]


def test_part_of_a_name_finds_the_one_grower_it_belongs_to(acme, growers):
    with acme:
        form = PickerForm({"grower": "riverbend", "other": "1"})
        assert form.is_valid(), form.errors
        assert form.cleaned_data["grower"] == growers["river"]


def test_a_name_two_growers_share_is_refused_naming_both(acme, growers):
    with acme:
        form = PickerForm({"grower": "Paardekloof", "other": "1"})
        assert not form.is_valid()
        message = form.errors["grower"][0]
        assert "G0019 · Paardekloof" in message and "G0044 · Paardekloof" in message
        assert "Pick one from the list" in message


def test_an_unknown_code_or_name_is_refused_with_what_was_typed(acme, growers):
    with acme:
        form = PickerForm({"grower": "Nobody Here", "other": "1"})
        assert not form.is_valid()
        assert form.errors["grower"] == ["No grower has the code or name “Nobody Here”."]


def test_a_form_shown_again_shows_the_code_and_the_name_of_the_grower_found(acme, growers):
    with acme:
        form = PickerForm({"grower": "oak farm", "other": "not a number"})
        assert not form.is_valid()
        assert form["grower"].value() == "G0042 · Oak Farm"
        assert 'value="G0042 · Oak Farm"' in str(form["grower"])
        assert grower_label(growers["oak"]) == "G0042 · Oak Farm"


def test_the_suggestions_carry_the_code_and_the_name(acme, growers):
    response = acme.client("Finance").get("/growers/search/", {"q": "paarde"})
    html = response.content.decode()
    assert '<option value="G0019 · Paardekloof">' in html
    assert '<option value="G0044 · Paardekloof">' in html
