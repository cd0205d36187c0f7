"""A test double for outbox gateways: down until told otherwise, recording what it delivered."""

from bianmin.core.gateways import Gateway, GatewayError


class Flaky(Gateway):
    down = True
    delivered: list = []

    def send(self, message) -> None:
        if Flaky.down:
            raise GatewayError("对方系统不可用（测试）")
        Flaky.delivered.append((message.channel, message.dedupe_key, message.pk))
