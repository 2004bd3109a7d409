"""Monitoring alerts: Prometheus Alertmanager's webhook (``POST /v1/alerts``) opens one ticket an alert, and posts
each later firing and each resolution to it once (``service_layer.alerts``).

The caller is a monitoring system's API key (or a token) with ``tickets:write``, and the tickets are its
account's, addressed to that account's parent. The answer is 200 with what became of each alert, in the order of
the notification. A notification that could not be stored is a 503, one past the caller's limits a 429, both with
``Retry-After``: Alertmanager sends it again, and what was stored before is applied once.
"""

from __future__ import annotations

import dataclasses

from fastapi import APIRouter
from hostdesk_contracts.runtime.problems import Unavailable

from hostdesk_intake.adapters.command_bus import BusUnavailable
from hostdesk_intake.api.answers import PROBLEMS, RETRY_SECONDS
from hostdesk_intake.api.deps import OpeningDep
from hostdesk_intake.api.problems import LimitReached
from hostdesk_intake.api.schemas.alerts import AlertNotification, AlertsAnswer
from hostdesk_intake.domain.limits import Action
from hostdesk_intake.service_layer.alerts import AlertIntake, receive
from hostdesk_intake.service_layer.limits import OverLimit

router = APIRouter(prefix="/v1")


@router.post("/alerts", response_model=AlertsAnswer, responses=PROBLEMS, tags=["alerts"])
async def receive_alerts(payload: AlertNotification, posting: OpeningDep) -> AlertsAnswer:
    """Alertmanager's webhook, version 4 (``webhook_configs`` with the key as its bearer credentials). Each alert
    is ``opened`` (its ticket), ``appended`` (a later firing's reply), ``resolved`` (its resolution's reply),
    ``unchanged``, ``pending`` or ``refused``."""
    opens = posting.admission
    intake = AlertIntake(
        bus=posting.bus,
        envelope=posting.envelope,
        opens=opens,
        posts=dataclasses.replace(opens, action=Action.REPLY) if opens is not None else None,
    )
    try:
        received = await receive(payload.to_alerts(), intake=intake)
    except OverLimit as error:
        raise _past_limit(error) from error
    except BusUnavailable as error:
        raise Unavailable(
            f"Not every alert could be stored: {error}. Send the notification again: what was stored is applied once.",
            retry_after=RETRY_SECONDS,
        ) from error
    return AlertsAnswer.of(received)


def _past_limit(error: OverLimit) -> LimitReached:
    quota = error.quota
    what = "tickets an hour" if quota.action is Action.OPEN else "replies a minute"
    return LimitReached(
        f"This caller may open or post at most {quota.limit} {what}; the alerts past it were not recorded. Send the "
        "notification again after the seconds in Retry-After: what was recorded is applied once.",
        retry_after_seconds=error.retry_after,
        limit=quota.limit,
        window_seconds=quota.window_seconds,
    )
