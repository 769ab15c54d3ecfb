"""Serializer infrastructure shared by the apps' APIs."""

import inspect
from collections.abc import Mapping

from django.db import models
from rest_framework import serializers
from rest_framework.relations import PKOnlyObject


class FastRepresentationMixin:
    """Output exactly as DRF's Serializer.to_representation, at a fraction of its per-row cost.

    For serializers of big lists (a page of 500 batches). DRF works out
    each field's source afresh on every row and inspects every callable it
    meets (inspect.signature); here the readable fields and their source
    paths are resolved once per serializer, and each row is only attribute
    lookups plus each field's own to_representation, so numbers, dates and
    nested serializers are formatted by DRF's fields, unchanged. Sources
    must be plain attribute paths, properties or methods without arguments
    (no dict instances, no defaults for missing attributes); the API tests
    compare the output with DRF's own.
    """

    def _representation_plan(self):
        plan = getattr(self, "_plan", None)
        if plan is None:
            plan = self._plan = [(field.field_name, field, field.source_attrs) for field in self._readable_fields]
        return plan

    def to_representation(self, instance):
        ret = {}
        for name, field, attrs in self._representation_plan():
            value = instance
            for attr in attrs:
                if value is None:
                    break
                value = getattr(value, attr)
                if inspect.ismethod(value):
                    value = value()
            if value is None or (isinstance(value, PKOnlyObject) and value.pk is None):
                ret[name] = None
            else:
                ret[name] = field.to_representation(value)
        return ret


class BlankAsNullChoiceField(serializers.ChoiceField):
    """A read-only choice stored as "" when there is none (a CharField with blank=True): answered as null.

    "" is not one of the enum's values, so a client validating against the schema refused it; null is, as
    the schema declares the field nullable.
    """

    def __init__(self, **kwargs):
        super().__init__(read_only=True, allow_null=True, **kwargs)

    def to_representation(self, value):
        return None if value in ("", None) else super().to_representation(value)


# A comment, not a docstring: drf-spectacular would make a docstring every serializer's description.
# A write that sends a field it may not change is a 400 naming that field, not a 200 that ignored it, so the
# client learns that its change did not happen. The fields refused are the serializer's read-only ones plus
# `also_read_only` (those of the resource that a separate write serializer does not take).
class RefuseReadOnlyFieldsMixin:

    also_read_only = ()

    def to_internal_value(self, data):
        if isinstance(data, Mapping):
            read_only = {name for name, field in self.fields.items() if field.read_only} | set(self.also_read_only)
            sent = sorted(name for name in data if name in read_only)
            if sent:
                raise serializers.ValidationError(
                    {name: ["This field is read-only here; leave it out."] for name in sent}
                )
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    """Only JSON true and false. DRF's BooleanField also takes 0, 1, "yes", "off" and the like, so
    `{"active": 0}` deactivated a grower although the schema says boolean. Found by schemathesis."""

    default_error_messages = {"invalid": "Use true or false."}

    def to_internal_value(self, data):
        if isinstance(data, bool):
            return data
        self.fail("invalid")


class StrictStringMixin:
    """A string field that takes only a JSON string, and whose max_length counts the characters as sent.

    DRF turns a number into its text (`{"region": 0}` is the region "0") and checks max_length after it
    trims the ends (a region of 100 letters and five spaces was taken), where the schema says string and
    maxLength 100: a client that checks its input against the schema would refuse what the server took.
    Found by schemathesis.
    """

    def run_validation(self, data=serializers.empty):
        if data is not serializers.empty and data is not None:
            if not isinstance(data, str):
                self.fail("invalid")
            if self.max_length is not None and len(data) > self.max_length:
                self.fail("max_length", max_length=self.max_length)
        return super().run_validation(data)


class CharField(StrictStringMixin, serializers.CharField):
    pass


class EmailField(StrictStringMixin, serializers.EmailField):
    pass


class ModelSerializer(serializers.ModelSerializer):
    """ModelSerializer whose generated fields are the strict ones above."""

    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.BooleanField: StrictBooleanField,
        models.CharField: CharField,
        models.EmailField: EmailField,
        models.TextField: CharField,
    }
