"""Providers' own status labels: which canonical status each stands for, per tenant, and what configures them."""

from __future__ import annotations

import pytest
from hostdesk_contracts.base import Status
from hostdesk_intake.domain.status_labels import (
    PLANETHOSTER_LABELS,
    StatusLabel,
    StatusLabels,
    UnknownStatusLabel,
)
from hostdesk_intake.settings import Settings
from pydantic import ValidationError

SECRET = "unit-secret-0123456789abcdef0123456789"
CONFIGURED = StatusLabels(
    {
        "*": {"Validation": Status.IN_PROGRESS, "To do": Status.ON_HOLD},
        "acme": {"Waiting on vendor": Status.ON_HOLD, "to do": Status.OPEN},
    }
)


def test_by_default_every_tenant_has_planethosters_labels() -> None:
    labels = StatusLabels(PLANETHOSTER_LABELS)

    assert labels.of("acme") == (
        StatusLabel("Validation", Status.IN_PROGRESS),
        StatusLabel("Install request", Status.IN_PROGRESS),
        StatusLabel("To do", Status.ON_HOLD),
    )


def test_a_tenant_has_the_labels_of_every_tenant_and_its_own_which_win() -> None:
    assert CONFIGURED.of("acme") == (
        StatusLabel("Validation", Status.IN_PROGRESS),
        StatusLabel("to do", Status.OPEN),
        StatusLabel("Waiting on vendor", Status.ON_HOLD),
    )
    assert CONFIGURED.of("globex") == (
        StatusLabel("Validation", Status.IN_PROGRESS),
        StatusLabel("To do", Status.ON_HOLD),
    )


@pytest.mark.parametrize(
    ("tenant", "given", "found"),
    [
        ("acme", "waiting ON vendor ", StatusLabel("Waiting on vendor", Status.ON_HOLD)),
        ("acme", "TO DO", StatusLabel("to do", Status.OPEN)),
        ("globex", "to do", StatusLabel("To do", Status.ON_HOLD)),
        ("globex", "validation", StatusLabel("Validation", Status.IN_PROGRESS)),
    ],
)
def test_a_label_resolves_in_any_case_to_the_tenants_own(tenant: str, given: str, found: StatusLabel) -> None:
    assert CONFIGURED.resolve(tenant, given) == found


def test_another_tenants_label_is_unknown_and_the_error_names_the_known_ones() -> None:
    with pytest.raises(UnknownStatusLabel) as raised:
        CONFIGURED.resolve("globex", "Waiting on vendor")

    assert raised.value.known == CONFIGURED.of("globex")
    assert "'Validation', 'To do'" in str(raised.value)


@pytest.mark.parametrize(
    ("configured", "complaint"),
    [
        ({"*": {"Gone": Status.CLOSED}}, "not closed"),
        ({"*": {"Theirs": Status.CUSTOMER_REPLY}}, "not customer_reply"),
        ({"ACME": {"Validation": Status.IN_PROGRESS}}, "neither a tenant"),
        ({"acme": {"  ": Status.OPEN}}, "1 to 100 characters"),
        ({"acme": {"x" * 101: Status.OPEN}}, "1 to 100 characters"),
        ({"acme": {"To do": Status.OPEN, "TO DO": Status.ON_HOLD}}, "twice"),
    ],
)
def test_a_wrong_configuration_is_refused_saying_what_is_wrong(
    configured: dict[str, dict[str, Status]], complaint: str
) -> None:
    with pytest.raises(ValueError, match=complaint):
        StatusLabels(configured)


def test_the_labels_are_read_as_json_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOSTDESK_JWT_SECRET", SECRET)
    monkeypatch.setenv("HOSTDESK_STATUS_LABELS", '{"acme": {"Waiting on vendor": "on_hold"}}')

    settings = Settings()

    assert settings.status_labels == {"acme": {"Waiting on vendor": Status.ON_HOLD}}


def test_a_wrong_configuration_in_the_environment_stops_start_up(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOSTDESK_JWT_SECRET", SECRET)
    monkeypatch.setenv("HOSTDESK_STATUS_LABELS", '{"*": {"Gone": "closed"}}')

    with pytest.raises(ValidationError, match="HOSTDESK_STATUS_LABELS"):
        Settings()


def test_an_organisations_own_labels_come_over_the_installations() -> None:
    labels = StatusLabels({"*": {"Validation": Status.IN_PROGRESS}, "acme": {"To do": Status.ON_HOLD}})

    own = labels.overlaid("acme", {"validation": Status.ON_HOLD, "Waiting on vendor": Status.ON_HOLD})

    assert own.resolve("acme", "VALIDATION").status is Status.ON_HOLD
    assert own.resolve("acme", "To do").status is Status.ON_HOLD
    assert own.resolve("acme", "waiting on vendor").label == "Waiting on vendor"
    assert labels.resolve("acme", "Validation").status is Status.IN_PROGRESS  # the installation's, unchanged
