"""Who the client of a request is."""

from django.conf import settings


def client_ip_address(request):
    """The client's address; behind TRUSTED_PROXY_COUNT proxies, the entry the nearest trusted one appended.

    The same rule as DRF's NUM_PROXIES, so lockout and throttling agree on who the client is.
    Entries further left are whatever the client claims, and are ignored.
    """
    hops = settings.TRUSTED_PROXY_COUNT
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if hops and forwarded:
        addresses = [part.strip() for part in forwarded.split(",") if part.strip()]
        if addresses:
            return addresses[-min(hops, len(addresses))]
    return request.META.get("REMOTE_ADDR", "")
