"""Liveness and readiness, for Kubernetes probes and the launcher."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request
from hostdesk_contracts.runtime.problems import Unavailable

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(request: Request) -> dict[str, object]:
    if not request.app.state.nc.is_connected:
        raise Unavailable("NATS is not connected.")
    stopped = [task.get_name() for task in request.app.state.tasks if task.done()]
    if stopped:
        raise Unavailable(f"These workers stopped: {', '.join(stopped)}.")
    tickets = request.app.state.tickets
    try:
        await asyncio.to_thread(tickets.recorder.max_notification_id)
    except Exception as error:
        raise Unavailable(f"The event store cannot be read: {type(error).__name__}.") from error
    return {"status": "ready", "relay_leader": request.app.state.relay.is_leader}
