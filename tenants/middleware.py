from django.utils import timezone
from django_tenants.middleware.main import TenantMainMiddleware

from core.views import unknown_host

from .models import company_for_host


class TenantMiddleware(TenantMainMiddleware):
    """Routes by hostname; an unknown, disallowed or suspended host gets our 404 page.

    The hostname's company comes from Redis when it can (tenants.models.company_for_host).

    It also activates the company's time zone, so dates shown and parsed are
    the company's local dates.
    """

    def get_tenant(self, domain_model, hostname):
        tenant = company_for_host(hostname)
        if not tenant.is_active:
            raise domain_model.DoesNotExist(f"{tenant.schema_name} is suspended")
        return tenant

    def no_tenant_found(self, request, hostname):
        return unknown_host(request)

    def process_request(self, request):
        response = super().process_request(request)
        if response is not None:
            # A DisallowedHost comes back from django-tenants as an empty 404.
            return unknown_host(request) if response.status_code == 404 else response
        timezone.activate(request.tenant.time_zone)
        return None
