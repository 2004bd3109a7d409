"""From one event to the mails it sends."""

from __future__ import annotations

from hostdesk_contracts.events import TicketEvent

from hostdesk_notify.domain.contacts import TicketContact
from hostdesk_notify.domain.mail import OutgoingMail, message_id_for, thread_id_for
from hostdesk_notify.domain.recipients import mail_kind_for, recipients_of
from hostdesk_notify.domain.templates import choose_template, render


def plan_mails(
    event: TicketEvent, ticket: TicketContact, *, default_language: str, domain: str
) -> tuple[OutgoingMail, ...]:
    """One mail per recipient of the event's kind of mail, or none when the event mails nobody."""
    kind = mail_kind_for(event)
    if kind is None:
        return ()
    # Tickets carry no language of their own yet: every mail speaks the installation's language.
    template = choose_template(kind, language=None, default_language=default_language)
    rendered = render(template, ticket=ticket, event=event)
    thread_id = thread_id_for(ticket.ticket_id, domain=domain)
    return tuple(
        OutgoingMail(
            event_id=event.event_id,
            recipient=recipient,
            message_id=message_id_for(event.event_id, recipient, domain=domain),
            thread_id=thread_id,
            ticket_id=ticket.ticket_id,
            tenant=ticket.tenant,
            requester_id=ticket.requester_id,
            kind=kind,
            subject=rendered.subject,
            body=rendered.body,
        )
        for recipient in recipients_of(kind, ticket, event=event)
    )
