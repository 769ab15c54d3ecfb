import copy

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.shortcuts import redirect, render

from accounts.roles import MANAGER
from core.forms import add_service_error

from . import services
from .forms import CompanySettingsForm


def _manager_only(user):
    """Company settings are the company's rules for everyone: its managers set them, nobody else."""
    if not (user.is_superuser or user.role == MANAGER):
        raise PermissionDenied


@login_required
def company_settings(request):
    _manager_only(request.user)
    company = connection.tenant
    # Copies: the form sets what it validates on its instance, and the request's company must stay as it is.
    form = CompanySettingsForm(request.POST or None, instance=copy.copy(company))
    if request.method == "POST" and form.is_valid():
        changes = {name: form.cleaned_data[name] for name in form.changed_data}
        try:
            services.update_company_settings(copy.copy(company), **changes)
        except ValidationError as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, "Company settings saved. They apply from the next intake.")
            return redirect("company-settings")
    return render(request, "tenants/company_settings.html", {"form": form, "company": company})
