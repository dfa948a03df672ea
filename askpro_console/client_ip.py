"""The client's address for the login lockout, behind TRUSTED_PROXY_COUNT proxies.

X-Forwarded-For is written by the client first and each proxy appends the address it saw; only
the entries appended by our own proxies can be trusted. With none configured the header is
ignored entirely, else a client could pick any address and never be locked out.
"""

from django.conf import settings


def client_ip(request) -> str:
    remote = request.META.get("REMOTE_ADDR", "")
    proxies = settings.TRUSTED_PROXY_COUNT
    if not proxies:
        return remote
    hops = [h.strip() for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if h.strip()]
    # The last proxy is REMOTE_ADDR itself; the ones before it appended to the header.
    return hops[-proxies] if len(hops) >= proxies else remote
