"""A message of the events stream as the projector sees it: a ``Delivery``."""

from __future__ import annotations

from collections.abc import Mapping

from nats.aio.msg import Msg


class JetStreamDelivery:
    __slots__ = ("_msg",)

    def __init__(self, msg: Msg) -> None:
        self._msg = msg

    @property
    def data(self) -> bytes:
        return self._msg.data

    @property
    def subject(self) -> str:
        return self._msg.subject

    @property
    def headers(self) -> Mapping[str, str]:
        return self._msg.headers or {}

    @property
    def deliveries(self) -> int:
        return self._msg.metadata.num_delivered or 1

    @property
    def stream_seq(self) -> int | None:
        return self._msg.metadata.sequence.stream

    async def ack(self) -> None:
        await self._msg.ack()

    async def nak(self, delay: float) -> None:
        await self._msg.nak(delay=delay)

    async def term(self) -> None:
        await self._msg.term()

    async def in_progress(self) -> None:
        await self._msg.in_progress()
