"""Gateways to outside systems, one per outbox channel.

A gateway sends one ``OutboxMessage`` and returns, or raises ``GatewayError``. It must be safe
to call twice for the same message: delivery is at least once (a worker that dies between
sending and recording the success sends again after its lease runs out), so every gateway
passes the message's ``dedupe_key`` on as an idempotency key for the receiving side.

Which class serves a channel comes from ``settings.BIANMIN_GATEWAYS`` ({channel: dotted path});
a channel not listed there uses ``FileGateway``, so nothing is ever sent by accident from a
development or demo install.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import urllib.error
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.signals import setting_changed
from django.utils import timezone
from django.utils.module_loading import import_string

if TYPE_CHECKING:
    from .models import OutboxMessage

log = logging.getLogger(__name__)

CHANNELS = {
    "sms": "短信",
    "email": "电子邮件",
    "notify": "工作人员通知",
    "provincial_eval": "省好差评系统",
    "hotline12345": "12345 热线平台",
}
DEFAULT_GATEWAY = "bianmin.core.gateways.FileGateway"


class GatewayError(Exception):
    """Sending failed. ``permanent`` says that trying again cannot help (the receiver refused
    the message itself), so the outbox gives up at once instead of backing off."""

    def __init__(self, message: str, *, permanent: bool = False):
        super().__init__(message)
        self.permanent = permanent


class Gateway:
    channel: str = ""

    def __init__(self, channel: str = ""):
        self.channel = channel

    def send(self, message: OutboxMessage) -> None:  # pragma: no cover - interface
        raise NotImplementedError


def _envelope(message: OutboxMessage) -> dict:
    return {
        "id": message.pk,
        "channel": message.channel,
        "recipient": message.recipient,
        "payload": message.payload,
        "idempotency_key": message.dedupe_key,
    }


class ConsoleGateway(Gateway):
    """Writes the message to the log. For development."""

    def send(self, message: OutboxMessage) -> None:
        log.info("outbox %s → %s: %s", message.channel, message.recipient,
                 json.dumps(_envelope(message), ensure_ascii=False))


_file_lock = threading.Lock()
_SAFE_NAME = re.compile(r"[^a-z0-9_-]")


class FileGateway(Gateway):
    """Appends one JSON line per message to ``VAR_DIR/outbox/<channel>.jsonl``: what would have
    been sent, for demos and for checking by hand. One ``write`` per line in append mode, so
    lines from several workers do not interleave."""

    def path(self) -> Path:
        name = _SAFE_NAME.sub("_", (self.channel or "default").lower())
        return Path(settings.VAR_DIR) / "outbox" / f"{name}.jsonl"

    def send(self, message: OutboxMessage) -> None:
        path = self.path()
        line = json.dumps({**_envelope(message), "at": timezone.now().isoformat()}, ensure_ascii=False) + "\n"
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with _file_lock, open(path, "a", encoding="utf-8") as fh:
                fh.write(line)
        except OSError as exc:
            raise GatewayError(f"写入文件失败：{exc}") from exc
        log.info("outbox %s → %s written to %s", message.channel, message.recipient, path)


class HttpSmsGateway(Gateway):
    """POSTs JSON to ``settings.BIANMIN_SMS_HTTP_URL`` with ``Authorization: Bearer <token>``
    and an ``Idempotency-Key`` header (the message's dedupe key). Any 2xx answer is success;
    4xx other than 408/429 is permanent (the gateway refuses this message); everything else,
    network errors and time-outs included, is retried."""

    def __init__(self, channel: str = "sms", *, url: str | None = None, token: str | None = None,
                 timeout: float | None = None):
        super().__init__(channel)
        self.url = url if url is not None else settings.BIANMIN_SMS_HTTP_URL
        self.token = token if token is not None else settings.BIANMIN_SMS_HTTP_TOKEN
        self.timeout = timeout if timeout is not None else float(settings.BIANMIN_SMS_HTTP_TIMEOUT)

    def send(self, message: OutboxMessage) -> None:
        if not self.url:
            raise GatewayError("未配置短信网关地址（BIANMIN_SMS_HTTP_URL）")
        body = json.dumps(
            {"to": message.recipient, "payload": message.payload, "idempotency_key": message.dedupe_key},
            ensure_ascii=False,
        ).encode("utf-8")
        headers = {"Content-Type": "application/json; charset=utf-8", "Idempotency-Key": message.dedupe_key}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        request = urllib.request.Request(self.url, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310 - configured URL
                status = response.status
        except urllib.error.HTTPError as exc:
            permanent = 400 <= exc.code < 500 and exc.code not in (408, 429)
            raise GatewayError(f"短信网关返回 HTTP {exc.code}", permanent=permanent) from exc
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise GatewayError(f"无法连接短信网关：{reason}") from exc
        if not 200 <= status < 300:
            raise GatewayError(f"短信网关返回 HTTP {status}")


class MailGateway(Gateway):
    """Sends ``payload["subject"]`` and ``payload["text"]`` to the recipient address through
    Django's e-mail backend (``EMAIL_*`` settings). The Message-ID is derived from the dedupe key,
    so a message sent twice (at least once delivery) is the same message to the receiving side."""

    def send(self, message: OutboxMessage) -> None:
        import hashlib

        from django.core.mail import EmailMessage

        payload = message.payload or {}
        digest = hashlib.sha256(message.dedupe_key.encode()).hexdigest()[:32]
        domain = settings.BIANMIN_EMAIL_DOMAIN
        mail = EmailMessage(subject=str(payload.get("subject") or "便民 政务服务平台通知"),
                            body=str(payload.get("text") or ""), to=[message.recipient],
                            headers={"Message-ID": f"<{digest}@{domain}>", "X-Idempotency-Key": message.dedupe_key})
        try:
            mail.send(fail_silently=False)
        except (OSError, ValueError) as exc:  # smtplib's errors are OSError subclasses
            raise GatewayError(f"邮件发送失败：{exc}") from exc


_instances: dict[str, Gateway] = {}
_instances_lock = threading.Lock()


def gateway_for(channel: str) -> Gateway:
    """The configured gateway of a channel (one instance per process and channel)."""
    configured = settings.BIANMIN_GATEWAYS or {}
    path = configured.get(channel) or DEFAULT_GATEWAY
    cache_key = f"{channel}:{path}"
    with _instances_lock:
        gateway = _instances.get(cache_key)
        if gateway is None:
            gateway = import_string(path)(channel)
            _instances[cache_key] = gateway
        return gateway


def reset_gateways() -> None:
    """Forget gateway instances (after settings change, e.g. in tests)."""
    with _instances_lock:
        _instances.clear()


def _on_setting_changed(*, setting, **kwargs):
    if setting in ("BIANMIN_GATEWAYS", "BIANMIN_SMS_HTTP_URL", "BIANMIN_SMS_HTTP_TOKEN", "BIANMIN_SMS_HTTP_TIMEOUT", "VAR_DIR"):
        reset_gateways()


setting_changed.connect(_on_setting_changed, dispatch_uid="bianmin-gateways-reset")
