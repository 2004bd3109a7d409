"""``GET /v1/dead-letters`` and ``POST /v1/dead-letters/{id}/replay``: the events query set aside, for the
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
from hostdesk_contracts.runtime.problems import NotFound

from hostdesk_query.adapters.ports import KeptLetter, ReadModel
from hostdesk_query.api.deps import ReachDep, SettingsDep
from hostdesk_query.api.routes import PROBLEMS
from hostdesk_query.service_layer.replay import replay

router = APIRouter(prefix="/v1/dead-letters", tags=["dead letters"])
_RESPONSES = {**PROBLEMS, **LETTER_PROBLEMS}


def _out(kept: KeptLetter) -> DeadLetterOut:
    letter = kept.letter
    return letter_out(
        letter_id=kept.id,
        received_at=kept.received_at,
        replay_requested=kept.replay_requested,
        subject=letter.subject,
        stream_seq=letter.stream_seq,
        deliveries=letter.deliveries,
        headers=letter.headers,
        error=letter.error,
        size=len(letter.data),
    )


async def get_letters(request: Request) -> ReadModel:
    letters: ReadModel = request.app.state.reader
    return letters


LettersDep = Annotated[ReadModel, Depends(get_letters)]


@router.get("", response_model=list[DeadLetterOut], responses=_RESPONSES)
async def dead_letters(
    letters: LettersDep,
    actor: ActorDep,
    reach: ReachDep,
    settings: SettingsDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
) -> list[DeadLetterOut]:
    """The events of the caller's tenant the read model set aside (undecodable, refused by the database, never
    preceded by their ticket's earlier events), newest first."""
    prefix = operated_events(actor, reach.handles, settings.subjects.root)
    return [_out(kept) for kept in await letters.kept_letters(subject_prefix=prefix, limit=limit)]


@router.post(
    "/{letter_id}/replay",
    response_model=ReplayOut,
    responses=_RESPONSES,
    dependencies=[Depends(scoped_actor(Scope.TICKETS_WRITE))],
)
async def replay_dead_letter(
    letter_id: LetterId, letters: LettersDep, actor: ActorDep, reach: ReachDep, settings: SettingsDep
) -> ReplayOut:
    """Apply the event again, once what stopped it is mended: applied (or found applied already), it is no longer
    kept; else it stays, with the error of this replay."""
    prefix = operated_events(actor, reach.handles, settings.subjects.root)
    kept = await letters.kept_letter(letter_id, subject_prefix=prefix)
    if kept is None:
        raise NotFound(f"There is no dead letter {letter_id} of this tenant.")
    result = await replay(letters, letters, settings.event_signer(), kept)
    return ReplayOut(outcome=result.outcome, error=result.error)
