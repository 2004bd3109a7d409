"""The SMTP sink the tests and the local setup use: a real server that keeps what it receives."""

from __future__ import annotations

from email.message import EmailMessage
from pathlib import Path

import aiosmtplib
import pytest
from hostdesk_devtools.servers import free_port
from hostdesk_devtools.smtp_sink import SmtpSink


def a_mail(subject: str = "[#1] Hello") -> EmailMessage:
    message = EmailMessage()
    message["From"] = "noreply@hostdesk.test"
    message["To"] = "jo@example.com"
    message["Subject"] = subject
    message.set_content("Bonjour, ça marche.")
    return message


async def test_a_mail_sent_over_smtp_is_kept_with_its_envelope_and_parsed_message(smtp_sink: SmtpSink) -> None:
    await aiosmtplib.send(a_mail(), hostname=smtp_sink.host, port=smtp_sink.port, recipients=["jo@example.com"])

    mail = await smtp_sink.mailbox.wait_for_async(lambda m: m.subject == "[#1] Hello", within=5)

    assert (mail.mail_from, mail.rcpt_tos) == ("noreply@hostdesk.test", ("jo@example.com",))
    assert mail.body == "Bonjour, ça marche.\n"
    assert b"Subject: [#1] Hello" in mail.raw


async def test_each_mail_is_also_written_as_an_eml_file_when_given_a_folder(tmp_path: Path) -> None:
    with SmtpSink(port=free_port(), directory=tmp_path / "mail") as sink:
        await aiosmtplib.send(a_mail(), hostname=sink.host, port=sink.port)
        mail = await sink.mailbox.wait_for_async(lambda m: True, within=5)

    [written] = (tmp_path / "mail").glob("*.eml")
    assert written.read_bytes() == mail.raw


def test_waiting_for_a_mail_that_never_comes_ends_with_a_timeout(smtp_sink: SmtpSink) -> None:
    with pytest.raises(TimeoutError):
        smtp_sink.mailbox.wait_for(lambda m: True, timeout=0.05)
