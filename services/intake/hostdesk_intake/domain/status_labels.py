"""Providers' own status labels, and the canonical status each one stands for.

A provider may show "Validation" or "Install request" where the product means ``in_progress``, or "To do"
for ``on_hold``. The installation's setting gives the default labels per tenant, with ``*`` for labels every
tenant has; a tenant's own label of the same name wins. An organisation's configuration in the directory (its
supervisors edit it through the API) is the source: its labels come over the defaults (``overlaid``). A caller
names a label in any case and with any surrounding spaces; the command carries it as configured.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from hostdesk_contracts.base import TENANT_PATTERN, Status
from hostdesk_contracts.runtime.text import NUL

ANY_TENANT = "*"
MAX_LABEL_LENGTH = 100  # a status label is a contracts ``Name``

# What a status change or a reply may set. Closing is its own command, and only requesters' replies make a
# ticket customer_reply, so no label may stand for either.
SETTABLE_STATUSES = (Status.OPEN, Status.ANSWERED, Status.IN_PROGRESS, Status.ON_HOLD, Status.RESOLVED)

PLANETHOSTER_LABELS: dict[str, dict[str, Status]] = {
    ANY_TENANT: {"Validation": Status.IN_PROGRESS, "Install request": Status.IN_PROGRESS, "To do": Status.ON_HOLD}
}


@dataclass(frozen=True)
class StatusLabel:
    label: str
    status: Status


class UnknownStatusLabel(Exception):
    """The label is not one of the tenant's; ``known`` are those it has."""

    def __init__(self, label: str, known: tuple[StatusLabel, ...]) -> None:
        names = ", ".join(repr(each.label) for each in known) or "none"
        super().__init__(f"{label!r} is not a status label here; the known ones are: {names}.")
        self.label = label
        self.known = known


class StatusLabels:
    """The configured labels. Raises ``ValueError`` naming what is wrong with a configuration."""

    def __init__(self, configured: Mapping[str, Mapping[str, Status]]) -> None:
        self._labels: dict[str, dict[str, StatusLabel]] = {}
        for tenant, labels in configured.items():
            if tenant != ANY_TENANT and not TENANT_PATTERN.fullmatch(tenant):
                raise ValueError(f"{tenant!r} is neither a tenant nor {ANY_TENANT!r}")
            self._labels[tenant] = {}
            for label, status in labels.items():
                entry = _checked(tenant, label, status)
                if _key(label) in self._labels[tenant]:
                    raise ValueError(f"tenant {tenant!r} has the label {entry.label!r} twice (case is ignored)")
                self._labels[tenant][_key(label)] = entry

    def overlaid(self, tenant: str, labels: Mapping[str, Status]) -> StatusLabels:
        """These labels with ``labels`` (an organisation's own, from the directory) over the tenant's: a label
        of the same name (in any case) stands for the organisation's status."""
        own = {_key(label) for label in labels}
        tenant_labels = {e.label: e.status for key, e in self._labels.get(tenant, {}).items() if key not in own}
        configured = {name: {e.label: e.status for e in known.values()} for name, known in self._labels.items()}
        return StatusLabels(configured | {tenant: tenant_labels | dict(labels)})

    def of(self, tenant: str) -> tuple[StatusLabel, ...]:
        """The tenant's labels, those of every tenant first, in the configured order."""
        labels = self._labels.get(ANY_TENANT, {}) | self._labels.get(tenant, {})
        return tuple(labels.values())

    def resolve(self, tenant: str, label: str) -> StatusLabel:
        """The tenant's label named ``label``, as configured. Raises ``UnknownStatusLabel``."""
        for known in (self._labels.get(tenant, {}), self._labels.get(ANY_TENANT, {})):
            if (found := known.get(_key(label))) is not None:
                return found
        raise UnknownStatusLabel(label, self.of(tenant))


def _key(label: str) -> str:
    return label.strip().casefold()


def _checked(tenant: str, label: str, status: Status) -> StatusLabel:
    name = label.strip()
    if not name or len(name) > MAX_LABEL_LENGTH or NUL in name:
        raise ValueError(f"tenant {tenant!r}: a label is 1 to {MAX_LABEL_LENGTH} characters, not {label!r}")
    if status not in SETTABLE_STATUSES:
        settable = ", ".join(each.value for each in SETTABLE_STATUSES)
        raise ValueError(f"tenant {tenant!r}: the label {name!r} must stand for one of {settable}, not {status.value}")
    return StatusLabel(label=name, status=status)
