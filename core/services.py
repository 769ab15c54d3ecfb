"""Helpers that every domain app's services.py uses."""

from django.core.exceptions import ValidationError


def apply_changes(instance, changes, editable):
    """Set `changes` on `instance` and return what really changed as {field: [old, new]}.

    Refuses fields outside `editable`, so a caller cannot slip a status or a
    code past the rules. Values in the result are JSON-ready strings.
    """
    refused = sorted(set(changes) - set(editable))
    if refused:
        raise ValidationError({name: "This field cannot be changed here." for name in refused})
    changed = {}
    for name, new in changes.items():
        old = getattr(instance, name)
        if old != new:
            changed[name] = [_plain(old), _plain(new)]
            setattr(instance, name, new)
    return changed


def _plain(value):
    return value if value is None or isinstance(value, (bool, int, str)) else str(value)
