import pytest


@pytest.fixture
def gs1(acme):
    """acme with a GS1 company prefix, as its platform staff would set it."""
    acme.company.gs1_company_prefix = "6001234"
    acme.company.sscc_extension_digit = 3
    acme.company.save(update_fields=["gs1_company_prefix", "sscc_extension_digit"])
    return acme


@pytest.fixture
def in_acme(gs1):
    with gs1:
        yield gs1
