"""A credentials block rebuilt from a flow run's stored parameters gets its token back.

Prefect stores a block passed as a flow parameter with its secrets masked (``**********``)
and its document id (``_block_document_id``). A flow run retried from the server
(``prefect flow-run retry``, a worker re-running a crashed run) rebuilds the block from that
stored value: the token is then the mask. The token is reloaded from the saved block document
by its id; a mask is never sent to Tower.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from prefect.blocks.core import Block

__all__ = ["is_mask", "reattach", "saved_secret"]

#: How a stored secret begins (pydantic's ``**********``, Prefect's ``********``).
MASK_PREFIX = "****"


def is_mask(value: str) -> bool:
    """Whether ``value`` is a masked secret rather than a secret (Tower tokens never start
    with ``*``).

    >>> is_mask("**********"), is_mask("eyJ0aWQiOiA0Mn0.c2VjcmV0")
    (True, False)
    """
    return value.startswith(MASK_PREFIX)


def reattach(block: Block, data: Any) -> None:
    """Keep the document id and name of the stored form ``data`` on ``block`` (pydantic
    leaves private attributes out of validation)."""
    if not isinstance(data, dict) or block._block_document_id is not None:
        return
    ref, name = data.get("_block_document_id"), data.get("_block_document_name")
    if ref:
        try:
            block._block_document_id = ref if isinstance(ref, UUID) else UUID(str(ref))
        except ValueError:
            return
        block._block_document_name = name if isinstance(name, str) else None


def describe(block: Block) -> str:
    """``'name' (document <id>)``, or what is known of the saved block."""
    name, ref = block._block_document_name, block._block_document_id
    if name and ref:
        return f"{name!r} (document {ref})"
    if ref:
        return f"document {ref}"
    return "that was never saved"


def saved_secret(block: Block, field: str) -> str:
    """The value of the secret ``field`` in the saved document of ``block``.

    Raises ``LookupError`` (with the reason) when the block has no saved document or it
    cannot be read.
    """
    ref = block._block_document_id
    if ref is None:
        raise LookupError("it was not loaded from a saved block")
    from prefect.client.orchestration import get_client

    try:
        with get_client(sync_client=True) as client:
            document = client.read_block_document(ref, include_secrets=True)
    except Exception as error:
        raise LookupError(f"{type(error).__name__}: {error}") from None
    value: Any = (document.data or {}).get(field)
    if hasattr(value, "get_secret_value"):
        value = value.get_secret_value()
    if not isinstance(value, str) or not value or is_mask(value):
        raise LookupError(f"the saved block holds no {field}")
    return value
