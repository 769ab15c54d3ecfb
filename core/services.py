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


def raise_if_invalid(instance, errors, *, exclude=(), constraints=True):
    """Raise the service's own `errors` and Django's validation of `instance` as one ValidationError.

    A field the service already refused is not validated again: its message is the clearer one.
    With constraints=False only the fields are validated (clean_fields), for a service that checks
    its model's CHECK constraints itself with a message per field, where full_clean would run a
    query per constraint; the database enforces them anyway.
    """
    exclude = [*exclude, *errors]
    try:
        if constraints:
            instance.full_clean(exclude=exclude)
        else:
            instance.clean_fields(exclude=exclude)
    except ValidationError as exc:
        for field, messages in exc.message_dict.items():
            errors.setdefault(field, " ".join(messages))
    if errors:
        raise ValidationError(errors)
