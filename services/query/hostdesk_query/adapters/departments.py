"""Which departments limit a member of staff's reads (``hostdesk_contracts.access.reach_of``'s ``departments``).

An organisation may say that its agents see only the tickets of their own departments
(``staff_see_own_departments_only`` in its configuration, in the directory). Whoever knows the directory answers
it through this port; the read model only ever receives the ``Reach`` it makes.
"""

from __future__ import annotations

from typing import Protocol

from hostdesk_contracts.base import Actor


class StaffDepartments(Protocol):
    async def limit_for(self, actor: Actor) -> frozenset[str] | None:
        """The departments ``actor`` is limited to, or None when nothing limits it: its departments when it is an
        agent of an organisation whose configuration says ``staff_see_own_departments_only``, else None (for
        supervisors, for accounts, and for staff of organisations that do not say so)."""
        ...


class NoDepartmentLimit:
    """Limits nobody: every member of staff reads every ticket addressed to its organisation. What an app served
    without a runtime reads (the unit tests that do not plug one in); a running service plugs in the directory's
    ``hostdesk_contracts.runtime.departments.DirectoryDepartments`` as ``app.state.staff_departments``."""

    async def limit_for(self, actor: Actor) -> frozenset[str] | None:
        return None
