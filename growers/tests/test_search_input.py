"""The grower search reads its text straight from the query string: a NUL byte there was a 500.

Now a NUL anywhere in a query string is a 400 before any view (core.middleware.NulByteQueryMiddleware).
"""

import pytest

from growers.tests.factories import GrowerFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("param", ["q", "grower"])
def test_a_nul_byte_in_the_search_is_a_400_not_a_500(acme, param):
    with acme:
        GrowerFactory(code="GNUL1", name="Oak Farm")

    response = acme.client("Clerk").get(f"/growers/search/?{param}=GNUL%001")

    assert response.status_code == 400
