"""The tickets application over an in-memory event store (``app``), and its HTTP API served in process over it
(``client``), for the tests of this folder that do not make their own."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from fastapi import FastAPI
from hostdesk_contracts.runtime.auth import TokenKeys
from hostdesk_contracts.runtime.problems import install_problem_handlers
from hostdesk_tickets.adapters.ticket_numbers import CountingNumbers
from hostdesk_tickets.api.routes import router
from hostdesk_tickets.service_layer.application import TicketsApplication

from .serving import CALLERS, SECRET


@pytest.fixture
def app() -> Iterator[TicketsApplication]:
    application = TicketsApplication(numbers=CountingNumbers(), env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    yield application
    application.close()


@pytest.fixture
async def client(app: TicketsApplication) -> AsyncIterator[httpx.AsyncClient]:
    api = FastAPI()
    api.state.tickets = app
    api.state.token_keys = TokenKeys(secret=SECRET)
    api.state.directory = CALLERS.directory
    install_problem_handlers(api)
    api.include_router(router)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=api), base_url="http://tickets") as client:
        yield client
