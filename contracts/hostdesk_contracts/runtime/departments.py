"""Which departments limit a member of staff, as the directory says: ``access.departments_limit`` over the staff
member's record and its organisation's configuration. Query, notify and tickets each give it to ``reach_of``."""

from __future__ import annotations

from hostdesk_contracts.access import departments_limit
from hostdesk_contracts.base import Actor, Role
from hostdesk_contracts.directory import StaffRecord
from hostdesk_contracts.runtime.directory import Directory


class DirectoryDepartments:
    """The departments limit of each caller, looked up in ``directory`` (two in-memory look-ups, for agents only)."""

    def __init__(self, directory: Directory) -> None:
        self._directory = directory

    async def limit_for(self, actor: Actor) -> frozenset[str] | None:
        if actor.role is not Role.AGENT or actor.organisation_id is None:
            return None
        staff = await self._directory.principal(actor.account_id)
        if not isinstance(staff, StaffRecord):
            return None
        configuration = await self._directory.configuration(staff.organisation_id)
        return departments_limit(actor, staff, configuration)
