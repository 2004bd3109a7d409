"""Notify's SMTP mailer against a real SMTP server: connections kept and reused, and a dropped one replaced."""

from __future__ import annotations

import asyncio
from email.message import EmailMessage

from hostdesk_devtools.servers import free_port
from hostdesk_devtools.smtp_sink import SmtpSink
from hostdesk_notify.adapters.smtp import SmtpMailer


def message(number: int) -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = "noreply@hostdesk.test"
    mail["To"] = "jo@customer.test"
    mail["Subject"] = f"[#{number}] Site down"
    mail["Message-ID"] = f"<m{number}@hostdesk.test>"
    mail.set_content("We restarted PHP-FPM.")
    return mail


async def test_mails_one_after_another_share_one_connection() -> None:
    with SmtpSink(port=free_port()) as sink:
        mailer = SmtpMailer(hostname="127.0.0.1", port=sink.port, timeout=5.0, connections=2)
        for number in range(10):
            await mailer.send(message(number), sender="noreply@hostdesk.test", recipient="jo@customer.test")
        await mailer.close()

    mails = sink.mailbox.all()
    assert [mail.subject for mail in mails] == [f"[#{number}] Site down" for number in range(10)]
    assert len({mail.peer for mail in mails}) == 1


async def test_mails_at_once_use_at_most_the_connections_allowed() -> None:
    with SmtpSink(port=free_port()) as sink:
        mailer = SmtpMailer(hostname="127.0.0.1", port=sink.port, timeout=5.0, connections=3)
        await asyncio.gather(
            *(mailer.send(message(n), sender="noreply@hostdesk.test", recipient="jo@customer.test") for n in range(30))
        )
        await mailer.close()

    mails = sink.mailbox.all()
    assert sorted(mail.subject for mail in mails) == sorted(f"[#{n}] Site down" for n in range(30))
    assert 1 <= len({mail.peer for mail in mails}) <= 3


async def test_a_connection_the_server_dropped_is_replaced_and_the_mail_sent_once() -> None:
    port = free_port()
    with SmtpSink(port=port) as before:
        mailer = SmtpMailer(hostname="127.0.0.1", port=port, timeout=5.0, connections=1)
        await mailer.send(message(1), sender="noreply@hostdesk.test", recipient="jo@customer.test")
    # The server went away and came back: the kept connection is dead.
    with SmtpSink(port=port) as after:
        await mailer.send(message(2), sender="noreply@hostdesk.test", recipient="jo@customer.test")
        await mailer.close()

    assert [mail.subject for mail in before.mailbox.all()] == ["[#1] Site down"]
    assert [mail.subject for mail in after.mailbox.all()] == ["[#2] Site down"]
