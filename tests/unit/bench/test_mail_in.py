"""The support mail figures of ``make bench``: what is sent, and what is made of what was seen."""

from __future__ import annotations

import math
from email import message_from_bytes

from hostdesk_devtools.bench.mail_in import MAILS_PER_SENDER, Accepted, MailIngest, MailRun, support_mails
from hostdesk_devtools.bench.report import rows

from tests.unit.bench.test_report import results, row


def test_the_mails_are_distinct_and_each_sender_stays_within_intakes_bound() -> None:
    mails = support_mails("s1", count=12, to="support@bench.example")
    assert len({mail.key for mail in mails}) == 12
    assert len({mail.data for mail in mails}) == 12
    per_sender: dict[str, int] = {}
    for mail in mails:
        per_sender[mail.sender] = per_sender.get(mail.sender, 0) + 1
        parsed = message_from_bytes(mail.data)
        assert parsed["Subject"] == mail.key
        assert mail.sender in parsed["From"]
    assert max(per_sender.values()) == MAILS_PER_SENDER


def ingest(visible: dict[str, float]) -> MailIngest:
    accepted = [Accepted(key=f"m{n}", accepted_at=10.0 + n, latency=0.01) for n in range(4)]
    return MailIngest(
        bare=MailRun(accepted=accepted, refused=0, seconds=0.5),
        intake=MailRun(accepted=accepted, refused=0, seconds=2.0),
        visible=visible,
        started_at=9.0,
        wait=30.0,
    )


def test_each_mail_counts_from_its_own_250_and_a_mail_never_seen_is_longer_than_any() -> None:
    mail = ingest({"m0": 10.5, "m1": 11.5, "m2": 12.5})
    assert mail.missing == 1
    assert mail.end_to_end_ms.p50 == 500.0
    assert math.isinf(mail.end_to_end_ms.p99)
    assert mail.end_to_end_rate == 3 / (12.5 - 9.0)


def test_the_table_shows_intake_beside_the_bare_server() -> None:
    measured = results()
    measured.mail_in = ingest({f"m{n}": 10.2 + n for n in range(4)})
    table = rows(measured)
    assert row(table, "Support mail accepted").ratio == "25.0%"  # 2/s beside the bare server's 8/s
    assert "0 not seen" in row(table, "  each mail's 250").note
