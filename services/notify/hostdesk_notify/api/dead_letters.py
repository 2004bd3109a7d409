"""``GET /v1/dead-letters`` and ``POST /v1/dead-letters/{id}/replay``: the events notify set aside, for the
provider's operators (``service_layer.replay``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from hostdesk_contracts.directory import Scope
from hostdesk_contracts.runtime.auth import ActorDep, scoped_actor
from hostdesk_contracts.runtime.dead_letters import (
    LETTER_PROBLEMS,
    DeadLetterOut,
    LetterId,
    ReplayOut,
    letter_out,
    operated_events,
)
from hostdesk_contracts.runtime.problems import NotFound, Unavailable

from hostdesk_notify.adapters.ports import KeptLetter
from hostdesk_notify.api.deps import ReachDep, StoreDep
from hostdesk_notify.service_layer.handlers import HANDLING_UNAVAILABLE
from hostdesk_notify.service_layer.replay import replay

router = APIRouter(prefix="/v1/dead-letters", tags=["dead letters"])
_RESPONSES = LETTER_PROBLEMS


def _out(kept: KeptLetter) -> DeadLetterOut:
    letter = kept.letter
    return letter_out(
        letter_id=kept.id,
        received_at=kept.received_at,
        replay_requested=kept.replay_requested,
        subject=letter.subject,
        stream_seq=letter.stream_seq,
        deliveries=None,
        headers=letter.headers,
        error=letter.error,
        size=len(letter.data),
    )


def _root(request: Request) -> str:
    root: str = request.app.state.settings.subjects.root
    return root


@router.get("", response_model=list[DeadLetterOut], responses=_RESPONSES)
async def dead_letters(
    request: Request,
    store: StoreDep,
    actor: ActorDep,
    reach: ReachDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
) -> list[DeadLetterOut]:
    """The events of the caller's tenant notify set aside (undecodable, refused by the database, never preceded by
    their ticket's earlier events), newest first."""
    prefix = operated_events(actor, reach.handles, _root(request))
    return [_out(kept) for kept in await store.kept_letters(subject_prefix=prefix, limit=limit)]


@router.post(
    "/{letter_id}/replay",
    response_model=ReplayOut,
    responses=_RESPONSES,
    dependencies=[Depends(scoped_actor(Scope.TICKETS_WRITE))],
)
async def replay_dead_letter(
    request: Request, letter_id: LetterId, store: StoreDep, actor: ActorDep, reach: ReachDep
) -> ReplayOut:
    """Handle the event again, once what stopped it is mended: handled (or found handled already), it is no
    longer kept and its mail goes out; else it stays, with the error of this replay."""
    prefix = operated_events(actor, reach.handles, _root(request))
    kept = await store.kept_letter(letter_id, subject_prefix=prefix)
    if kept is None:
        raise NotFound(f"There is no dead letter {letter_id} of this tenant.")
    runtime = request.app.state.runtime
    try:
        result = await replay(store, runtime.handle, runtime.signer, kept, on_queued=runtime.send_loop.wake)
    except HANDLING_UNAVAILABLE as error:
        raise Unavailable("PostgreSQL or the directory does not answer; try again shortly.") from error
    return ReplayOut(outcome=result.outcome, error=result.error)
