"""The exports' knobs. Only the direct-download threshold is a setting in settings.py
(``BIANMIN_EXPORT_DIRECT_MAX_ROWS``); the others may be overridden by a setting of the same
name, read at call time so tests and deployments can change them."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from django.conf import settings


def direct_max_rows() -> int:
    """A ledger export of at most this many rows downloads at once; a larger one becomes a job."""
    return int(getattr(settings, "BIANMIN_EXPORT_DIRECT_MAX_ROWS", 5000))


def exports_dir() -> Path:
    """Where finished files live (``BIANMIN_VAR/exports``). Several app servers must share it,
    as they share the media folder: the worker writes the file, any web process serves it."""
    folder = Path(getattr(settings, "BIANMIN_EXPORTS_DIR", None) or settings.VAR_DIR / "exports")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def stale_after() -> timedelta:
    """A running job without progress for this long lost its worker (killed, machine restarted):
    a later run takes it over. Progress is saved every PROGRESS_EVERY rows (well under a second
    of work), so only a dead worker or a very long final save stays silent this long."""
    return timedelta(minutes=int(getattr(settings, "BIANMIN_EXPORT_STALE_MINUTES", 10)))


def keep_for() -> timedelta:
    """How long a finished file stays downloadable; afterwards it is deleted, the row stays."""
    return timedelta(days=int(getattr(settings, "BIANMIN_EXPORT_KEEP_DAYS", 7)))


PROGRESS_EVERY = 2000  # rows between two progress saves (one UPDATE each)
CHUNK_ROWS = 2000  # rows read per query (keyset pagination, streaming.keyset_chunks)
MAX_ATTEMPTS = 3  # runs of one job (a worker killed twice in it → it fails with a reason)
MAX_UNFINISHED_PER_USER = 5  # queued or running jobs one person may have at once
SWEEP_EVERY = timedelta(minutes=5)  # the sweep's heartbeat while a job is unfinished
