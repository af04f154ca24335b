"""Can this machine reach a CRR target at all? One answer, one wording, for every command.

Before a runner sends its first request, ``unreachable(url)`` tries the name and a TCP connect
(no TLS, nothing sent): a target nobody listens on, a misspelt host or a firewall that drops the
packets is then one sentence with the address and a fix, and exit 3 ("could not run") in every
command, instead of 83 failed scenarios, a raw ``[Errno 111]`` or an SLO breach. The probe's
network checks use the same sentences (``connect_failure``), so all of crrsim says it one way.
"""

from __future__ import annotations

import errno
import socket
from urllib.parse import urlsplit

REACH_TIMEOUT_S = 5.0
_FIREWALL = "check firewalls and proxies between this machine and the server, and that the port is right"


def connect_failure(address: str, port: int, exc: BaseException) -> tuple[str, str]:
    """(what happened, what to do) for a TCP connect that failed with ``exc``."""
    if isinstance(exc, TimeoutError):
        return (
            f"no answer to the TCP connection to {address}:{port} within the time limit (packets dropped)",
            _FIREWALL,
        )
    if isinstance(exc, ConnectionRefusedError):
        return (
            f"connection to {address}:{port} refused: nothing is listening on that port",
            f"check the port in the URL; for the sandbox, start it with `crrsim sandbox serve --port {port}`",
        )
    code = getattr(exc, "errno", None)
    reason = errno.errorcode.get(code or 0, "") if code else ""
    said = getattr(exc, "strerror", None) or str(exc)
    return f"cannot connect to {address}:{port} ({said}{', ' + reason if reason else ''})", _FIREWALL


def name_failure(host: str, exc: BaseException) -> tuple[str, str]:
    """(what happened, what to do) for a host name that did not resolve."""
    said = getattr(exc, "strerror", None) or str(exc)
    return (
        f"the host name {host} cannot be resolved ({said})",
        "check the URL for typos and this machine's DNS settings",
    )


def unreachable(url: str, timeout: float = REACH_TIMEOUT_S) -> str | None:
    """None when something accepts TCP connections at ``url``'s host and port; otherwise one
    sentence: the address, what happened, and the fix."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        what, fix = name_failure(host, exc)
        return f"cannot reach {url}: {what}; {fix}."
    failure: tuple[str, str] | None = None
    for family, kind, proto, _, address in infos:
        with socket.socket(family, kind, proto) as sock:
            sock.settimeout(timeout)
            try:
                sock.connect(address)
            except OSError as exc:
                failure = failure or connect_failure(str(address[0]), port, exc)
                continue
            return None
    what, fix = failure or (f"{host} has no address", _FIREWALL)
    return f"cannot reach {url}: {what}; {fix}."
