"""``GET /v1/stream``: live updates as Server-Sent Events (``domain.live``, ``service_layer.live_hub``)."""

from __future__ import annotations

import functools
import re
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request, Response
from fastapi.sse import EventSourceResponse, format_sse_event
from hostdesk_contracts.problems import Problem
from hostdesk_contracts.runtime.problems import TooManyRequests

from hostdesk_query.api.deps import ReachDep
from hostdesk_query.api.list_filters import invalid
from hostdesk_query.api.routes import PROBLEMS
from hostdesk_query.api.schemas import LiveChangeOut
from hostdesk_query.domain.live import LiveChange
from hostdesk_query.service_layer.live_hub import LiveHub, Ping, Stream, Told, TooManyStreams

router = APIRouter(prefix="/v1/stream", tags=["live"])

_RETRY_MILLISECONDS = 3_000  # how long a browser's EventSource waits before it reconnects
_PING = format_sse_event(comment="ping")
_OVERFLOW = format_sse_event(event="overflow", data_str="{}")


async def get_hub(request: Request) -> LiveHub:
    hub: LiveHub = request.app.state.hub
    return hub


HubDep = Annotated[LiveHub, Depends(get_hub)]


_EVENT_ID = re.compile(r"[0-9]{1,19}")  # ASCII only: str.isdigit() also takes "²", which int() refuses


def _after(header: str | None, query: int | None) -> int | None:
    if header is None:
        return query
    if not _EVENT_ID.fullmatch(header):
        raise invalid("Last-Event-ID", "the id of the last change received: a whole number", header)
    return int(header)


def _told(told: Told) -> bytes:
    if told is None:
        return _OVERFLOW
    if isinstance(told, Ping):
        return _PING
    return _frame(told)


@functools.lru_cache(maxsize=1_024)
def _frame(change: LiveChange) -> bytes:
    """A change as told: the same bytes for every stream told it, made once (a thousand consoles, one encoding)."""
    data = LiveChangeOut.of(change).model_dump_json()
    return format_sse_event(event="ticket", data_str=data, id=str(change.seq))


async def _events(hub: LiveHub, stream: Stream) -> AsyncIterator[bytes]:
    try:
        yield format_sse_event(retry=_RETRY_MILLISECONDS, comment="hostdesk live updates")
        if stream.resync:
            # The changes since the client's last are no longer kept: it reads its lists again, and goes on
            # from here.
            yield format_sse_event(event="resync", data_str="{}", id=str(hub.last_seq))
        while True:
            told = [await stream.next(), *stream.waiting()]  # what waits already goes out in one write
            yield b"".join(_told(each) for each in told)
            if told[-1] is None:
                return
    finally:
        hub.close(stream)


@router.get(
    "",
    response_class=Response,  # the stream below, as it is: not a response model
    responses={
        **PROBLEMS,
        200: {"content": {"text/event-stream": {}}, "description": "Events ``ticket``, ``resync``, ``overflow``."},
        429: {"model": Problem, "description": "The caller has as many streams open as it may."},
    },
)
async def live_stream(
    reach: ReachDep,
    hub: HubDep,
    last_event_id: Annotated[
        str | None, Header(alias="Last-Event-ID", description="The id of the last change received.")
    ] = None,
    after: Annotated[
        int | None, Query(ge=0, description="As ``Last-Event-ID``, for a client that cannot set headers.")
    ] = None,
) -> EventSourceResponse:
    """Every change to a ticket the caller may see, as it happens: an event ``ticket`` whose data names the ticket,
    its new version and the kind of change (``opened``, ``posted``, ``noted``, ``status``, ``assigned``,
    ``merged``, ``updated``; ``noted`` and ``assigned`` and tag changes only to the handling side), with the
    change's id. Reconnecting with ``Last-Event-ID`` tells every change since that one, none twice; when those
    are no longer kept, an event ``resync`` says to read the lists again. A client that falls too far behind is
    sent ``overflow`` and the stream ends: it reconnects from its last id. Idle streams get a comment every
    ``QUERY_LIVE_PING_SECONDS``."""
    try:
        stream = hub.open(reach, after=_after(last_event_id, after))
    except TooManyStreams as error:
        raise TooManyRequests(str(error), retry_after_seconds=_RETRY_MILLISECONDS / 1000) from error
    return EventSourceResponse(_events(hub, stream))
