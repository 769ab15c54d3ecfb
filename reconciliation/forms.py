"""The reconciliation page's form: the API's parameters (filters.py), with a grower search for people."""

from growers.fields import GrowerCodeField

from .filters import ReconciliationForm


class ReconciliationPageForm(ReconciliationForm):
    """The same names as the API (`from`, `to`, ...); the grower is picked by code, not from a select."""

    grower = GrowerCodeField(required=False, help_text="Leave empty for every grower.")
