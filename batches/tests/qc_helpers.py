"""Data for the QC tests: a company's default catalogue and batches of apples to inspect."""

from types import SimpleNamespace

from batches import services
from batches.models import DefectType
from batches.qc_catalogue import load_default_catalogue

from .factories import BatchFactory


def qc_world():
    """Inside a company's context: the default catalogue and one received apple batch."""
    load_default_catalogue()
    batch = BatchFactory()
    return SimpleNamespace(batch=batch, defects={d.code: d for d in DefectType.objects.all()})


def inspect(batch, defects, sample_size=100, result="pass", **kwargs):
    """Record an inspection; `defects` maps DefectType (or its code) to a count."""
    by_code = {d.code: d for d in DefectType.objects.all()}
    counts = {by_code.get(key, key): count for key, count in defects.items()}
    return services.record_inspection(batch, sample_size=sample_size, result=result, defects=counts, **kwargs)
