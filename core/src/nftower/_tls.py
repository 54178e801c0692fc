"""TLS settings: which CAs a client trusts, and how a certificate failure is told.

``verify`` (a :class:`~nftower.TowerConfig` field and a client argument) is ``True`` (the
default: check the server's certificate), the path of a CA bundle (a PEM file, or a directory
of hashed certificates as made by ``c_rehash``), or ``False`` (no check; only when asked, with
one warning per client).

With ``verify=True`` the trusted CAs are those of the first of these environment variables that
is set (as requests-based tools do), else certifi's bundle:

``REQUESTS_CA_BUNDLE``, ``CURL_CA_BUNDLE``, ``SSL_CERT_FILE``, ``SSL_CERT_DIR``.

An empty variable is ignored (it never turns checking off). A certificate that fails the check
is never retried (it cannot succeed on a second try): :class:`~nftower.TowerTLSError` names the
CAs that were used and the options that change them.

Example:
    >>> trust = trusted_cas(True, {"REQUESTS_CA_BUNDLE": ""})
    >>> trust.source
    "certifi's bundle"
    >>> trusted_cas(False, {}).source
    'none (verify=False)'
"""

from __future__ import annotations

import os
import ssl
import threading
import warnings
from collections.abc import Mapping
from dataclasses import dataclass

import certifi

from ._exceptions import TowerConfigError

__all__ = ["CA_ENV_VARS", "TrustedCAs", "cert_failure", "check_verify", "trusted_cas"]

#: The environment variables read when ``verify=True``, first one set wins.
CA_ENV_VARS = ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE", "SSL_CERT_DIR")

_LOCK = threading.Lock()
_CONTEXTS: dict[tuple[str, int, int], ssl.SSLContext] = {}
_MAX_CONTEXTS = 32

FIX_HINT = (
    "if Tower's certificate comes from your organisation's own CA, pass its CA bundle with "
    "verify='/path/to/ca-bundle.pem' (or set REQUESTS_CA_BUNDLE or SSL_CERT_FILE); "
    "verify=False turns the check off (not recommended: the access token could be read)"
)


def check_verify(value: object) -> bool | str:
    """``value`` as a ``verify`` setting: a bool, or the path of an existing CA file / dir.

    Example:
        >>> check_verify(False), check_verify("/")
        (False, '/')
    """
    if isinstance(value, bool):
        return value
    if isinstance(value, os.PathLike):
        value = os.fspath(value)
    if not isinstance(value, str) or not value.strip():
        raise TowerConfigError(
            "verify must be True, False or the path of a CA bundle (a PEM file or a directory "
            f"of certificates), got {value!r}"
        )
    path = os.path.expanduser(value.strip())
    if not os.path.exists(path):
        words = value.strip().lower() in ("true", "false", "yes", "no", "0", "1")
        hint = (
            "; pass verify=True or verify=False (a bool) to turn the check on or off"
            if words
            else ""
        )
        raise TowerConfigError(
            f"verify: no CA bundle at {path!r} (no such file or directory){hint}"
        )
    return path


@dataclass(frozen=True)
class TrustedCAs:
    """What a client checks certificates with: ``context`` for httpx, ``source`` for people."""

    context: ssl.SSLContext
    source: str
    verify: bool


def trusted_cas(verify: bool | str, environ: Mapping[str, str] | None = None) -> TrustedCAs:
    """The SSL context for ``verify`` (``environ``: where ``verify=True`` looks for a bundle)."""
    if verify is False:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return TrustedCAs(context, "none (verify=False)", verify=False)
    if verify is True:
        env = os.environ if environ is None else environ
        for name in CA_ENV_VARS:
            path = (env.get(name) or "").strip()
            if path:
                return TrustedCAs(_load(path, f"{name}={path}"), f"{name}={path}", verify=True)
        return TrustedCAs(_load(certifi.where(), "certifi's bundle"), "certifi's bundle", True)
    return TrustedCAs(_load(verify, f"verify={verify!r}"), f"verify={verify}", verify=True)


def _load(path: str, origin: str) -> ssl.SSLContext:
    """The SSL context trusting the CAs at ``path``: built once per file version and shared
    by every client (loading a bundle costs tens of milliseconds; a context is safe to share,
    and every nftower client sets the same ALPN protocols on it)."""
    path = os.path.expanduser(path)
    try:
        info = os.stat(path)
        key = (os.path.realpath(path), info.st_mtime_ns, info.st_size)
        with _LOCK:
            cached = _CONTEXTS.get(key)
        if cached is not None:
            return cached
        if os.path.isdir(path):
            context = ssl.create_default_context(capath=path)
        else:
            context = ssl.create_default_context(cafile=path)
    except (OSError, ssl.SSLError) as exc:
        raise TowerConfigError(
            f"{origin}: cannot load CA certificates from it ({exc.__class__.__name__}: "
            f"{exc.strerror or exc}); it must be a PEM file or a directory of certificates"
        ) from None
    with _LOCK:
        if len(_CONTEXTS) >= _MAX_CONTEXTS:
            _CONTEXTS.clear()
        return _CONTEXTS.setdefault(key, context)


def warn_unverified(api_url: str) -> None:
    """The one warning of a client made with ``verify=False`` for an https URL."""
    warnings.warn(
        f"TLS certificate verification is off (verify=False) for {api_url}: anyone between "
        "this host and Tower can read the access token. Pass the CA bundle instead "
        "(verify='/path/to/ca-bundle.pem').",
        UserWarning,
        stacklevel=5,
    )


def cert_failure(exc: BaseException) -> ssl.SSLCertVerificationError | None:
    """The certificate verification error behind a transport error, if that is what it is."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, ssl.SSLCertVerificationError):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None
