"""E-mail intake: appeals from the center's mailbox (Maildir on disk, or IMAP), one appeal per
message, idempotent by Message-ID (reading the same mailbox twice registers nothing twice)."""

from __future__ import annotations

import email
import email.policy
import email.utils
import hashlib
import imaplib
import mailbox
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError
from django.utils.html import strip_tags

from bianmin.core.errors import DomainError
from bianmin.core.text import clean
from bianmin.core.uploads import check_file

from .models import Appeal, AppealKind, Channel, PartyType
from .services import appeal_register

# A subject starting with 【投诉】, [建议] … says the kind; otherwise the command's default.
KIND_PREFIX = re.compile(r"^\s*[【\[]\s*(咨询|求助|投诉|举报|建议)\s*[】\]]")
KIND_BY_LABEL = {str(label): value for value, label in AppealKind.choices}


@dataclass
class ParsedMail:
    message_id: str
    sender_name: str
    sender_email: str
    subject: str
    body: str
    kind: str | None
    attachments: list = field(default_factory=list)


def parse(raw: bytes) -> ParsedMail:
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    message_id = (msg.get("Message-ID") or "").strip()
    if not message_id:
        # No Message-ID (some scanners' mailers): the content itself identifies the message.
        message_id = "<sha256-" + hashlib.sha256(raw).hexdigest() + ">"
    name, address = email.utils.parseaddr(str(msg.get("From", "")))
    subject = str(msg.get("Subject", "") or "").strip()
    body_part = msg.get_body(preferencelist=("plain", "html"))
    body = ""
    if body_part is not None:
        body = body_part.get_content()
        if body_part.get_content_type() == "text/html":
            body = strip_tags(body)
    attachments = []
    for part in msg.iter_attachments():
        data = part.get_payload(decode=True) or b""
        try:  # the platform's upload policy; a mail's other attachments (signatures, calendars) are left out
            checked = check_file(part.get_filename() or "", data, field="attachments", label="附件")
        except DomainError:
            continue
        attachments.append(SimpleUploadedFile(checked.name, checked.data, content_type=checked.content_type))
    match = KIND_PREFIX.match(subject)
    kind = KIND_BY_LABEL[match.group(1)] if match else None
    if match:
        subject = subject[match.end():].strip()
    # A mail's text is input like a form's (core.text): no control character is stored.
    return ParsedMail(clean(message_id)[:255], clean(name).strip(), clean(address).strip(), clean(subject),
                      clean(body).strip(), kind, attachments)


@dataclass
class IntakeResult:
    created: list[str] = field(default_factory=list)
    skipped: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)  # (message id, reason)


def ingest(raw_messages: Iterator[bytes], *, area, default_kind: str = AppealKind.CONSULT,
           received_by: str = "电子邮箱") -> IntakeResult:
    result = IntakeResult()
    for raw in raw_messages:
        mail = parse(raw)
        if Appeal.objects.filter(message_id=mail.message_id).exists():
            result.skipped += 1
            continue
        try:
            appeal = appeal_register(
                actor=None, kind=mail.kind or default_kind, channel=Channel.EMAIL, area=area,
                title=(mail.subject or mail.body[:30] or "（无主题）")[:200], content=mail.body or mail.subject,
                party_type=PartyType.PERSON, name=mail.sender_name or mail.sender_email.split("@")[0],
                email=mail.sender_email, message_id=mail.message_id, attachments=mail.attachments,
                received_by=received_by,
            )
        except IntegrityError:
            result.skipped += 1  # another run took it at the same moment
            continue
        except DomainError as exc:
            result.failed.append((mail.message_id, exc.message))
            continue
        result.created.append(appeal.number)
    return result


def from_maildir(path: str) -> Iterator[bytes]:
    box = mailbox.Maildir(path, factory=None, create=False)
    for key in sorted(box.keys()):
        yield box.get_bytes(key)


def from_imap(*, host: str, user: str, password: str, folder: str = "INBOX", port: int = 993,
              ssl: bool = True, search: str = "ALL") -> Iterator[bytes]:
    client = imaplib.IMAP4_SSL(host, port) if ssl else imaplib.IMAP4(host, port)
    try:
        client.login(user, password)
        client.select(folder, readonly=True)  # read-only: Message-ID decides what is new
        _typ, data = client.search(None, search)
        for num in (data[0] or b"").split():
            _typ, parts = client.fetch(num, "(RFC822)")
            for part in parts:
                if isinstance(part, tuple):
                    yield part[1]
    finally:
        try:
            client.logout()
        except Exception:  # the server may already have closed the connection
            pass
