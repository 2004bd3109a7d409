"""What the routes need, as ``Annotated`` dependencies read from ``app.state``."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from hostdesk_notify.adapters.ports import NotifyStore


async def get_store(request: Request) -> NotifyStore:
    store: NotifyStore = request.app.state.store
    return store


StoreDep = Annotated[NotifyStore, Depends(get_store)]
