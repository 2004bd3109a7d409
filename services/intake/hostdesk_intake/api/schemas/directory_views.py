"""What the directory's read routes answer: the caller itself and what it may choose when it opens a ticket
(the portal's form: the organisations it may write to, their departments and categories, its own services), or,
for staff, its organisation's configuration and colleagues."""

from __future__ import annotations

from typing import Literal

from hostdesk_contracts.directory import (
    AccountKind,
    AccountRecord,
    CannedResponse,
    Configuration,
    HostingService,
    StaffRecord,
    StaffRole,
)
from pydantic import BaseModel, Field


class Addressee(BaseModel):
    """An organisation the caller may address a ticket to, with the departments and categories it may choose."""

    organisation_id: str
    display_name: str
    kind: AccountKind
    departments: list[str]
    categories: list[str]

    @classmethod
    def of(cls, account: AccountRecord, configuration: Configuration | None, *, subaccount: bool) -> Addressee:
        departments = [d.name for d in configuration.departments if not d.retired] if configuration else []
        categories = (
            [c.name for c in configuration.categories if c.for_subaccounts or not subaccount] if configuration else []
        )
        return cls(
            organisation_id=account.id,
            display_name=account.display_name,
            kind=account.kind,
            departments=departments,
            categories=categories,
        )


class Colleague(BaseModel):
    id: str
    display_name: str
    role: StaffRole
    departments: list[str]


class OrganisationView(BaseModel):
    """A member of staff's organisation: what it answers with and whom it may assign."""

    organisation_id: str
    departments: list[str]
    categories: list[str]
    canned_responses: list[CannedResponse]
    status_labels: dict[str, str]
    staff: list[Colleague]

    @classmethod
    def of(
        cls, organisation_id: str, configuration: Configuration | None, staff: tuple[StaffRecord, ...]
    ) -> OrganisationView:
        known = configuration or Configuration(organisation_id=organisation_id)
        return cls(
            organisation_id=organisation_id,
            departments=[d.name for d in known.departments if not d.retired],
            categories=[c.name for c in known.categories],
            canned_responses=list(known.canned_responses),
            status_labels={label: status.value for label, status in known.status_labels.items()},
            staff=[
                Colleague(id=s.id, display_name=s.display_name, role=s.role, departments=list(s.departments))
                for s in staff
                if not s.disabled
            ],
        )


class Me(BaseModel):
    """The caller as the directory knows it."""

    id: str
    tenant: str
    kind: AccountKind | Literal["staff"]
    display_name: str
    language: str
    role: str
    services: list[HostingService] = Field(default_factory=list, description="An account's hosting services.")
    addressees: list[Addressee] = Field(
        default_factory=list, description="Where an account may address a ticket, its parent (the default) first."
    )
    organisation: OrganisationView | None = Field(default=None, description="Staff: the organisation they work for.")
