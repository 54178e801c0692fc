"""The access token and the API URL's credentials: checked before any call, kept out of text.

:func:`check_token` refuses a token that could never work, without echoing it: one with a
line break or a space inside (a header cannot hold it, and httpx would name the whole header in
its error), typographic or plain quotes around it, other characters a Bearer token never holds
(RFC 6750 ``b64token``: letters, digits and ``-._~+/``, then ``=`` padding), a ``Bearer ``
prefix, or fewer than :data:`MIN_TOKEN_LENGTH` characters.

:func:`redact` takes a token and any ``user:password@`` out of a text (an error message, a
server answer). It replaces whole occurrences of the token only, and only of a token long
enough to be secret, so that a short test token never turns ``certificate`` into
``cer***ifica***e``.
"""

from __future__ import annotations

import re
import unicodedata

from ._exceptions import TowerConfigError

__all__ = [
    "MASK",
    "MIN_TOKEN_LENGTH",
    "check_token",
    "redact",
    "redact_token",
    "redact_userinfo",
]

#: What a secret is replaced with.
MASK = "***"
#: The shortest token accepted (and redacted). Tower's tokens are far longer (a JWT of about
#: a hundred characters, or forty hex digits for older installs); 16 characters of a token
#: alphabet are already 96 bits, and no ordinary word of a message is that long a match.
MIN_TOKEN_LENGTH = 16

_B64TOKEN = re.compile(r"[A-Za-z0-9\-._~+/]+=*")
_QUOTES = "\"'`\u2018\u2019\u201a\u201b\u201c\u201d\u201e\u201f\u00ab\u00bb\u2039\u203a"
#: ``scheme://user:password@`` (or ``scheme://user@``) in any text.
_USERINFO = re.compile(r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.-]*://)(?P<userinfo>[^/\s@?#]+)@")


def check_token(token: object, *, source: str = "the access token") -> str:
    """``token`` without surrounding whitespace, or :class:`TowerConfigError` (never echoing
    it) when it cannot be a Tower access token.

    Example:
        >>> check_token("  eyJ0aWQiOiA0Mn0.c2VjcmV0  ")
        'eyJ0aWQiOiA0Mn0.c2VjcmV0'
        >>> check_token("eyJ0aWQiOiA0Mn0\\n.c2VjcmV0")
        Traceback (most recent call last):
        ...
        nftower.TowerConfigError: The access token contains a line break (at character 16); ...
    """
    if not isinstance(token, str):
        raise TowerConfigError(f"{_cap(source)} must be a string, got {type(token).__name__}")
    text = token.strip()
    if not text:
        raise TowerConfigError(
            f"{_cap(source)} is empty: pass token=... or set TOWER_ACCESS_TOKEN (create one "
            "under 'Your tokens' in the Tower web UI)."
        )
    if _B64TOKEN.fullmatch(text) is None:
        raise TowerConfigError(f"{_cap(source)} {_malformed(text)}")
    if len(text) < MIN_TOKEN_LENGTH:
        raise TowerConfigError(
            f"{_cap(source)} is only {len(text)} character(s) long; Tower access tokens are "
            f"much longer (nftower accepts {MIN_TOKEN_LENGTH} or more): check that the whole "
            "token was copied."
        )
    return text


def _malformed(text: str) -> str:
    """What is wrong with a token that is not a ``b64token``. It never repeats the token: it
    names at most one character, one that no token holds, and its position."""
    paste = " Paste the token alone, as shown once under 'Your tokens' in the Tower web UI."
    if set(text) <= set("*\u2022"):
        return (
            "is a mask (only '*'), not the token: the token was replaced where it was stored "
            "or shown (a masked form field, a flow run's saved parameters); load the saved "
            "credentials again, or set the token anew"
        )
    if text[:7].lower() == "bearer " or text[:7].lower() == "bearer\t":
        return "starts with 'Bearer ': pass the token alone (nftower adds the prefix)."
    if text[0] in _QUOTES or text[-1] in _QUOTES:
        mark = text[0] if text[0] in _QUOTES else text[-1]
        return f"is wrapped in quotes ({_describe(mark)}): remove them." + paste
    for position, char in enumerate(text, start=1):
        if _B64TOKEN.fullmatch(char) is not None or char == "=":
            continue
        if char in "\r\n":
            what = "a line break"
        elif char.isspace():
            what = "a space or tab"
        elif char in _QUOTES:
            what = f"a quote ({_describe(char)})"
        elif not char.isascii() or not char.isprintable():
            what = f"the character {_describe(char)}"
        else:
            what = "a character that Tower tokens never hold"
        return f"contains {what} (at character {position}); a Tower token is one word." + paste
    return "has '=' padding in the middle; a Tower token is one word." + paste


def _describe(char: str) -> str:
    """``U+201C LEFT DOUBLE QUOTATION MARK``: a character by code point and name."""
    name = unicodedata.name(char, "")
    code = f"U+{ord(char):04X}"
    return f"{code} {name}" if name else code


def _cap(text: str) -> str:
    """``text`` with its first letter capitalised."""
    return text[:1].upper() + text[1:]


def redact_userinfo(text: str) -> str:
    """``text`` with the ``user:password@`` of every URL in it replaced by ``***@``.

    Example:
        >>> redact_userinfo("Could not reach https://ann:s3cret@tower.example.org/api")
        'Could not reach https://***@tower.example.org/api'
    """
    return _USERINFO.sub(lambda match: f"{match['scheme']}{MASK}@", text)


def redact_token(text: str, token: str | None) -> str:
    """``text`` with every whole occurrence of ``token`` replaced by ``***`` (when the token
    is at least :data:`MIN_TOKEN_LENGTH` long; a shorter one is left alone).

    Example:
        >>> redact_token("export TOWER_ACCESS_TOKEN=eyJ0aWQiOiA0Mn0.c2VjcmV0",
        ...              "eyJ0aWQiOiA0Mn0.c2VjcmV0")
        'export TOWER_ACCESS_TOKEN=***'
    """
    if token and len(token) >= MIN_TOKEN_LENGTH and token in text:
        return text.replace(token, MASK)
    return text


def redact(text: str, token: str | None) -> str:
    """``text`` with every whole occurrence of ``token`` (when it is at least
    :data:`MIN_TOKEN_LENGTH` long) and every URL's ``user:password@`` replaced by ``***``.

    Example:
        >>> token = "eyJ0aWQiOiA0Mn0.c2VjcmV0"
        >>> redact(f"Illegal header value b'Bearer {token}'", token)
        "Illegal header value b'Bearer ***'"
        >>> redact("certificate verify failed", "t")
        'certificate verify failed'
    """
    text = redact_token(text, token)
    return redact_userinfo(text) if "@" in text else text
