"""The adapter to the provincial 好差评 system on the outbox (channel ``provincial_eval``).

The default is core's FileGateway (var/outbox/provincial_eval.jsonl): nothing leaves a demo or
development install. A deployment points the channel at this adapter:

    BIANMIN_GATEWAYS["provincial_eval"] = "bianmin.evaluations.gateways.ProvincialHttpGateway"
    BIANMIN_PROVINCIAL_EVAL_URL = "https://…/haochaping/report"
    BIANMIN_PROVINCIAL_EVAL_TOKEN = "…"

It POSTs the payload of ``services.provincial_payload`` (the fields STANDARDS.md lists) with the
message's dedupe key as ``Idempotency-Key``, so the provincial side drops the duplicate that
at-least-once delivery can produce; 2xx is success, 4xx other than 408/429 is permanent
(shown as 发送失败 on the status page), anything else is retried with back-off."""

from __future__ import annotations

from django.conf import settings

from bianmin.core.gateways import HttpSmsGateway


class ProvincialHttpGateway(HttpSmsGateway):
    def __init__(self, channel: str = "provincial_eval", *, url: str | None = None, token: str | None = None,
                 timeout: float | None = None):
        super().__init__(
            channel,
            url=url if url is not None else settings.BIANMIN_PROVINCIAL_EVAL_URL,
            token=token if token is not None else settings.BIANMIN_PROVINCIAL_EVAL_TOKEN,
            timeout=timeout,
        )
