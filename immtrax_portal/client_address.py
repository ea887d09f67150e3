"""Which address a request came from, for the audit log and the rate limits.

X-Forwarded-For is written by whoever sends the request, so it is believed only as far as the
configured number of trusted reverse proxies reaches: each trusted proxy appends the address it
saw, so with N proxies the client is the N-th entry from the right. Entries further left were
supplied by the client and are ignored. With no trusted proxies (the default) the header is
ignored and the connection's peer address is the client.
"""

from __future__ import annotations

from starlette.requests import Request

from immtrax_portal.settings import get_settings


def client_address(peer: str, forwarded_for: str, trusted_proxy_hops: int) -> str:
    """The client's address given the socket peer and the X-Forwarded-For header."""
    if trusted_proxy_hops <= 0:
        return peer
    entries = [part.strip() for part in forwarded_for.split(",") if part.strip()]
    if len(entries) < trusted_proxy_hops:
        # Fewer entries than proxies: the request did not come through the whole chain (or the
        # setting is wrong); nothing in the header can be trusted.
        return peer
    return entries[-trusted_proxy_hops][:64]


def request_client_ip(request: Request) -> str:
    """The client of a plain HTTP route (sign-in, downloads), with the configured proxy hops."""
    return client_address(request.client.host if request.client else "",
                          request.headers.get("x-forwarded-for", ""),
                          get_settings().trusted_proxy_hops)
