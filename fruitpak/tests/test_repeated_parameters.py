"""A single-valued filter given twice (?q=a&q=b) is refused by every FilterSet, never half-used."""

import django_filters
import pytest
from django.apps import apps
from django.http import QueryDict

from core.filters import FilterSet

pytestmark = pytest.mark.django_db


def project_filtersets():
    """Every FilterSet of the project's apps (the domain apps import theirs when their URLs load)."""
    import fruitpak.urls  # noqa: F401  -- loads every app's views and so their FilterSets

    found, stack = [], [FilterSet]
    while stack:
        for subclass in stack.pop().__subclasses__():
            stack.append(subclass)
            if subclass.__module__.split(".")[0] in {app.label for app in apps.get_app_configs()}:
                found.append(subclass)
    return found


def single_valued_parameters(filterset_class):
    filterset = filterset_class(QueryDict())
    for name, filter_ in filterset.filters.items():
        if isinstance(filter_, django_filters.MultipleChoiceFilter):
            continue
        suffixes = getattr(filterset.form.fields[name].widget, "suffixes", None)
        yield from ([f"{name}_{suffix}" for suffix in suffixes] if suffixes else [name])


def test_every_domain_app_has_its_filtersets_on_the_shared_base():
    names = {cls.__name__ for cls in project_filtersets()}
    assert {"BatchFilterSet", "GrowerFilterSet", "SeasonFilterSet", "PackhouseFilterSet", "PriceAgreementFilterSet",
            "PoolFilterSet", "PalletFilterSet", "LoadFilterSet", "PaymentRunFilterSet"} <= names


def test_each_single_valued_parameter_given_twice_is_refused_by_name(acme):
    checked = 0
    with acme:
        for filterset_class in project_filtersets():
            for parameter in single_valued_parameters(filterset_class):
                filterset = filterset_class(QueryDict(f"{parameter}=1&{parameter}=2"),
                                            queryset=filterset_class._meta.model.objects.none())
                assert not filterset.is_valid(), (filterset_class.__name__, parameter)
                assert f"Give {parameter} once." in str(filterset.errors.as_data()), (filterset_class.__name__,
                                                                                      parameter)
                checked += 1
    assert checked > 50


def test_check_boxes_take_several_values(acme):
    from batches.filters import BatchFilterSet
    from batches.models import Batch

    with acme:
        filterset = BatchFilterSet(QueryDict("status=packed&status=grading&fruit_type=apple"),
                                   queryset=Batch.objects.all())
        assert filterset.is_valid(), filterset.errors


def test_the_api_answers_400_naming_the_parameter(acme):
    response = acme.api_client("Clerk").get("/api/batches/?q=PH1&q=PH2")

    assert response.status_code == 400
    assert "Give q once." in str(response.json())


def test_the_page_says_so_and_lists_nothing(acme, batch_with_payment):
    response = acme.client("Clerk").get("/batches/?grower_code=G0001&grower_code=G0002")

    html = response.content.decode()
    assert "Give grower_code once." in html
    assert batch_with_payment.batch_code not in html
