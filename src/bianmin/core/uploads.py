"""The platform's one upload policy: every app that takes files (case materials, bad-review
evidence, appeal attachments) checks them here, before anything is written.

- a file's type is what its first bytes say, never what the client declares or the name claims
  (PDF, JPG, PNG, and OFD — a ZIP package named .ofd);
- its size is at most ``max_file_bytes()`` (413, checked before a spooled upload is read into
  memory); an empty file is refused (422);
- its name is cleaned (no folders, no control characters, at most 200 characters, the extension
  kept) before anyone stores or shows it;
- at most ``MAX_FILES`` files per request.

Storing them once by content, and removing what a failed transaction wrote, is
``bianmin.cases.uploads`` (the ``StoredFile`` rows live in cases)."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings

from .errors import Invalid, TooLarge, UnsupportedType
from .text import clean

# File kinds accepted, recognised by their first bytes (a name or a declared type can lie).
_SIGNATURES: list[tuple[bytes, str]] = [
    (b"%PDF-", "application/pdf"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
]
ACCEPTED = "PDF、JPG、PNG、OFD"
MAX_FILES = 10
NAME_MAX = 200


def max_file_bytes() -> int:
    """The largest file accepted (``BIANMIN_CASE_FILE_MAX_BYTES``, 10 MB by default)."""
    return int(getattr(settings, "BIANMIN_CASE_FILE_MAX_BYTES", 10 * 1024 * 1024))


def sniff_content_type(head: bytes, name: str) -> str | None:
    """The type of a file by its first bytes, or None when it is not one the platform takes."""
    for magic, content_type in _SIGNATURES:
        if head.startswith(magic):
            return content_type
    # OFD (GB/T 33190, China's fixed-layout format) is a ZIP package named .ofd.
    if head.startswith(b"PK\x03\x04") and (name or "").lower().endswith(".ofd"):
        return "application/ofd"
    return None


def clean_file_name(name: str | None, default: str = "附件") -> str:
    """A file name as it may be stored and shown: the last path segment (a browser or a mail may
    send "C:\\Users\\…\\证明.pdf" or "../../x"), no control characters, NFC, at most
    ``NAME_MAX`` characters with its extension kept, ``default`` when nothing is left."""
    name = clean(unicodedata.normalize("NFC", name or "")).replace("\\", "/").rsplit("/", 1)[-1].strip().lstrip(".")
    if len(name) > NAME_MAX:
        stem, dot, ext = name.rpartition(".")
        ext = ext[:20] if dot else ""
        name = (stem if dot else name)[: NAME_MAX - len(ext) - 1].rstrip() + (f".{ext}" if ext else "")
    return name or default


@dataclass(frozen=True)
class CheckedFile:
    name: str  # cleaned
    data: bytes
    content_type: str  # by content


def _too_large(label: str, name: str, field: str) -> TooLarge:
    shown = f"“{name}”" if name else ""
    limit = max_file_bytes()
    size = f"{limit // (1024 * 1024)} MB" if limit >= 1024 * 1024 else f"{max(limit // 1024, 1)} KB"
    return TooLarge(f"{label}{shown}过大：不能超过 {size}", field=field)


def read_upload(upload, *, field: str, label: str = "文件") -> tuple[str, bytes]:
    """(name, bytes) of an uploaded file; one too large is refused (413) by its size before it is
    read into memory (Django spooled it to a temporary file)."""
    name = clean_file_name(getattr(upload, "name", ""), default="")
    size = getattr(upload, "size", None)
    if size is not None and size > max_file_bytes():
        raise _too_large(label, name, field)
    return name, upload.read()


def check_file(name: str, data: bytes, *, field: str, label: str = "文件", default_name: str = "附件") -> CheckedFile:
    """The policy for one file: size (413), empty (422), type by content (415), a clean name."""
    name = clean_file_name(name, default="")
    if len(data) > max_file_bytes():
        raise _too_large(label, name, field)
    shown = f"“{name}”" if name else ""
    if not data:
        raise Invalid(f"{label}{shown}为空", field=field)
    content_type = sniff_content_type(data[:16], name)
    if content_type is None:
        raise UnsupportedType(f"{label}{shown}的类型不支持：仅接受 {ACCEPTED}（按文件内容识别）", field=field)
    return CheckedFile(name or default_name, data, content_type)


def check_files(files: Iterable, *, field: str, label: str = "文件", max_count: int = MAX_FILES,
                default_name: str = "附件") -> list[CheckedFile]:
    """Every file checked before anything is written, so a bad file among good ones leaves no
    trace. ``files`` are uploaded files or (name, bytes) pairs."""
    files = list(files or [])
    if len(files) > max_count:
        raise Invalid(f"每次最多上传 {max_count} 个{label}", field=field)
    pairs = [f if isinstance(f, tuple) else read_upload(f, field=field, label=label) for f in files]
    return [check_file(name, data, field=field, label=label, default_name=default_name) for name, data in pairs]
