"""Uploaded files kept only with the rows that use them (what they may be is the platform's one
upload policy, ``bianmin.core.uploads``).

``store_file`` writes a blob to storage before the transaction that records it commits (after
the commit is too late: a crash in between would leave a row whose file never arrived). So when
that transaction fails — a later check refuses the request, the audit row cannot be written, the
database goes away — the blob would stay on disk with no row. Django has no on-rollback hook;
``atomic_with_uploads`` is ``transaction.atomic`` that notes the blobs written inside it and, when
the block fails, removes each one no committed row references.

Content addressing means another upload may share the blob: a blob is removed only after this
module has taken its sha256's unique slot in ``StoredFile`` itself. A concurrent upload of the
same content has then either committed its row (we find it and keep the file) or waits for our
slot and, finding the file gone, writes it again (``store_file`` checks after its insert)."""

from __future__ import annotations

import contextvars
import logging
from collections.abc import Iterator
from contextlib import contextmanager

from django.core.files.storage import default_storage
from django.db import transaction

logger = logging.getLogger(__name__)

# The blobs written by the innermost open ``atomic_with_uploads`` block: [(sha256, path)].
_written: contextvars.ContextVar[list[tuple[str, str]] | None] = contextvars.ContextVar(
    "bianmin_uploads_written", default=None)


def note_written(*, sha256: str, path: str) -> None:
    """Called by ``store_file`` for a blob it has just created (not for one it found)."""
    written = _written.get()
    if written is not None:
        written.append((sha256, path))


@contextmanager
def atomic_with_uploads() -> Iterator[None]:
    """``transaction.atomic()`` whose failure also removes the blobs written inside it that no
    row references. Nested blocks hand their blobs to the enclosing one when they succeed, so
    that the enclosing block's failure removes them too (savepoint-aware). A block inside a
    plain ``transaction.atomic`` that later rolls back cannot be seen from here: services open
    this block as their outermost transaction."""
    outer = _written.get()
    mine: list[tuple[str, str]] = []
    token = _written.set(mine)
    try:
        with transaction.atomic():
            yield
    except BaseException:
        _written.reset(token)
        for sha256, path in mine:
            discard_unreferenced(sha256=sha256, path=path)
        raise
    _written.reset(token)
    if outer is not None:
        outer.extend(mine)


def discard_unreferenced(*, sha256: str, path: str) -> bool:
    """Remove the blob at ``path`` unless a ``StoredFile`` row holds ``sha256``. Returns whether
    it was removed. Never raises: a blob left behind wastes space; an error here would hide the
    one that made the transaction fail."""
    from .models import StoredFile

    try:
        with transaction.atomic():
            # Our own placeholder row takes the unique slot for the duration of the removal.
            slot, created = StoredFile.objects.get_or_create(
                sha256=sha256, defaults={"size": 0, "content_type": "", "path": path})
            if not created:
                return False  # another row uses this content: the blob is theirs too
            default_storage.delete(path)
            slot.delete()
        return True
    except Exception:  # noqa: BLE001 — see the docstring
        logger.exception("could not remove the unreferenced upload %s", path)
        return False
