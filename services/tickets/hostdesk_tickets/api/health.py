"""The tickets service's readiness, for Kubernetes probes and the launcher; it also tells whether this replica leads
the relay."""

from __future__ import annotations

import asyncio

from fastapi import Request
from hostdesk_contracts.runtime.health import Readiness


async def readiness(request: Request) -> Readiness:
    state = request.app.state
    reasons = []
    if not state.nc.is_connected:
        reasons.append("NATS is not connected")
    stopped = [task.get_name() for task in state.tasks if task.done()]
    if stopped:
        reasons.append(f"these workers stopped: {', '.join(stopped)}")
    try:
        await asyncio.to_thread(state.tickets.recorder.max_notification_id)
    except Exception as error:  # noqa: BLE001 - whatever the store raises, it cannot be read: not ready, and why
        reasons.append(f"the event store cannot be read: {type(error).__name__}")
    return Readiness(reasons=reasons, details={"relay_leader": state.relay.is_leader})
