"""The exports' knobs: settings (defaults and meanings in bianmin/conf.py), read at call time so
tests and deployments can change them; and the fixed sizes below."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from django.conf import settings


def direct_max_rows() -> int:
    """A ledger export of at most this many rows downloads at once; a larger one becomes a job."""
    return int(settings.BIANMIN_EXPORT_DIRECT_MAX_ROWS)


def exports_dir() -> Path:
    """Where finished files live (``BIANMIN_VAR/exports``). Several app servers must share it,
    as they share the media folder: the worker writes the file, any web process serves it."""
    folder = Path(settings.BIANMIN_EXPORTS_DIR or settings.VAR_DIR / "exports")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def stale_after() -> timedelta:
    """A running job without progress for this long lost its worker (killed, machine restarted):
    a later run takes it over. Progress is saved every PROGRESS_EVERY rows (well under a second
    of work), so only a dead worker or a very long final save stays silent this long."""
    return timedelta(minutes=int(settings.BIANMIN_EXPORT_STALE_MINUTES))


def keep_for() -> timedelta:
    """How long a finished file stays downloadable; afterwards it is deleted, the row stays."""
    return timedelta(days=int(settings.BIANMIN_EXPORT_KEEP_DAYS))


PROGRESS_EVERY = 2000  # rows between two progress saves (one UPDATE each)
CHUNK_ROWS = 2000  # rows read per query (keyset pagination, streaming.keyset_chunks)
MAX_ATTEMPTS = 3  # runs of one job (a worker killed twice in it → it fails with a reason)
MAX_UNFINISHED_PER_USER = 5  # queued or running jobs one person may have at once
SWEEP_EVERY = timedelta(minutes=5)  # the sweep's heartbeat while a job is unfinished
