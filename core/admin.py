"""The base every domain app's admin builds on: writes go through the services.

ModelAdmin's default save is never used for domain models; see ServiceForm.
"""

import copy

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db import models, router, transaction

from .errors import Conflict
from .forms import LocalDecimalField, add_service_error

# Weights and amounts in the admin are typed as on the app's pages: a decimal comma or point (core.numbers).
LOCAL_NUMBER_OVERRIDES = {models.DecimalField: {"form_class": LocalDecimalField}}

_SAVED = "_fruitpak_admin_saved"


class ServiceForm(forms.ModelForm):
    """A ModelForm whose validation is the service call.

    The admin decides whether to save or to show the form again before it
    calls save_model, so an error raised in save_model can only be a 500.
    Checking first and writing later is no better: what the service checks
    (a code or payment reference already taken, an overlapping agreement, a
    batch locked by a clerk) is only true when it writes. So the form calls
    the service exactly once, in `_post_clean`, where a ModelForm would
    otherwise copy the data onto the instance and run full_clean, and turns
    the service's ValidationError or Conflict into errors beside the fields
    (or above the form, for a field the form does not show). The form never
    saves the instance: `save()` returns what the service wrote.
    ServiceAdmin rolls back any POST that does not reach save_model, so a
    failure after the service call still saves nothing.

    Subclasses implement `create(data)` and, if the object can be changed,
    `change(obj, changes)`, with `editable` naming the fields the service
    may change.
    """

    request = None  # the current request; ServiceAdmin.get_form sets it
    editable = ()
    saved = None

    def create(self, data):
        raise NotImplementedError

    def change(self, obj, changes):
        raise NotImplementedError

    @property
    def user(self):
        return self.request.user if self.request else None

    def _post_clean(self):
        self.saved = None
        if self._errors:
            return  # a field is missing or malformed; the service would only say so again
        try:
            if self.instance._state.adding:
                self.saved = self.create(self.cleaned_data)
            else:
                changes = {name: self.cleaned_data[name] for name in self.changed_data if name in self.editable}
                # A copy: a refused change must not linger on the instance the page shows again.
                self.saved = self.change(copy.copy(self.instance), changes) if changes else self.instance
        except (ValidationError, Conflict) as exc:
            add_service_error(self, exc)

    def save(self, commit=True):
        if self.errors:
            raise ValueError(f"The {self._meta.model._meta.object_name} could not be saved: the data didn't validate.")
        self.save_m2m = lambda: None
        return self.saved


class ServiceAdmin(admin.ModelAdmin):
    """A ModelAdmin whose forms (ServiceForm) write through the services.

    `add_form` is used to add, `form` to change; `add_fieldsets` and
    `fieldsets` go with them. Nothing is deleted here: a packhouse or grower
    is deactivated instead, and batches, history, payments and agreements are
    records. Editable inlines are not supported: an inline would save to an
    instance the service never saw.
    """

    add_form = None
    add_fieldsets = None
    formfield_overrides = LOCAL_NUMBER_OVERRIDES

    def get_fieldsets(self, request, obj=None):
        if obj is None and self.add_fieldsets:
            return self.add_fieldsets
        return super().get_fieldsets(request, obj)

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None and self.add_form is not None:
            kwargs.setdefault("form", self.add_form)
        form = super().get_form(request, obj, change=change, **kwargs)
        return type(form.__name__, (form,), {"request": request, "__module__": form.__module__})

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        if request.method in ("GET", "HEAD", "OPTIONS", "TRACE"):
            return super().changeform_view(request, object_id, form_url, extra_context)
        with transaction.atomic(using=router.db_for_write(self.model)):
            response = super().changeform_view(request, object_id, form_url, extra_context)
            if not getattr(request, _SAVED, False):
                # The form or an inline was refused: undo whatever the service did.
                transaction.set_rollback(True)
        return response

    def save_model(self, request, obj, form, change):
        """The service already wrote `obj` while the form validated; note that the POST succeeded."""
        setattr(request, _SAVED, True)

    def save_formset(self, request, form, formset, change):
        """Inlines here are read-only: list what the formset holds (for the change message), write nothing."""
        formset.save(commit=False)

    def has_delete_permission(self, request, obj=None):
        return False
