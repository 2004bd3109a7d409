from collections.abc import AsyncIterator

import pytest

from .serving import Api, served_api


@pytest.fixture
async def api() -> AsyncIterator[Api]:
    async with served_api() as served:
        yield served
