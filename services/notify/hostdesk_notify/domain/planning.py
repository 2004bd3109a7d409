"""From one event to the mails it sends: one per recipient, written once per language and route among them."""

from __future__ import annotations

from dataclasses import dataclass

from hostdesk_contracts.attachments import Attachment
from hostdesk_contracts.events import ReplyPosted, TicketEvent, TicketOpened

from hostdesk_notify.domain.bounds import Suppressed
from hostdesk_notify.domain.contacts import TicketContact
from hostdesk_notify.domain.mail import OutgoingMail, message_id_for, thread_id_for
from hostdesk_notify.domain.people import NOBODY_KNOWN, People
from hostdesk_notify.domain.recipients import MailKind, Recipient, Route, mail_kind_for, recipients_of
from hostdesk_notify.domain.templates import MailTemplate, RenderedMail, choose_template, render

NOBODY = ""  # the recipient of a mail nobody could be sent


@dataclass(frozen=True, slots=True)
class Plan:
    """The mails an event sends, and the one it would have sent when nobody could be mailed (``unaddressed``,
    kept as suppressed with the reason, so that the delivery log tells it)."""

    mails: tuple[OutgoingMail, ...] = ()
    unaddressed: tuple[Suppressed, ...] = ()


@dataclass(frozen=True, slots=True)
class _Planning:
    event: TicketEvent
    ticket: TicketContact
    kind: MailKind
    default_language: str
    domain: str

    def mail(self, recipient: str, template: MailTemplate, rendered: RenderedMail) -> OutgoingMail:
        """One event to one address: its ids are the same however often, and in whatever language, it is planned."""
        return OutgoingMail(
            event_id=self.event.event_id,
            recipient=recipient,
            message_id=message_id_for(self.event.event_id, recipient, domain=self.domain),
            thread_id=thread_id_for(self.ticket.ticket_id, domain=self.domain),
            ticket_id=self.ticket.ticket_id,
            tenant=self.ticket.tenant,
            requester_id=self.ticket.requester_id,
            kind=self.kind,
            subject=rendered.subject,
            body=rendered.body,
            language=template.language,
            attachments=files_of(self.event),
        )

    def template(self, language: str | None) -> MailTemplate:
        return choose_template(self.kind, language=language, default_language=self.default_language)


def files_of(event: TicketEvent) -> tuple[Attachment, ...]:
    """The files of the post an event is about (none for an event about no post). Only readers who may see the
    post are mailed about it: an internal note mails nobody on the requesting side."""
    return event.attachments if isinstance(event, ReplyPosted | TicketOpened) else ()


def plan_mails(
    event: TicketEvent, ticket: TicketContact, *, people: People = NOBODY_KNOWN, default_language: str, domain: str
) -> Plan:
    """One mail per recipient of the event's kind of mail, each in its reader's language (``people``: what the
    directory says of them now; the installation's language for anyone it does not hold). Recipients who read
    the same language for the same reason share one rendering. No mail when the event mails nobody."""
    kind = mail_kind_for(event)
    if kind is None:
        return Plan()
    planning = _Planning(event, ticket, kind, default_language, domain)
    addressed = recipients_of(kind, ticket, event=event, people=people)
    rendered: dict[tuple[str, Route], tuple[MailTemplate, RenderedMail]] = {}
    mails: list[OutgoingMail] = []
    for recipient in addressed.recipients:
        template, mail = _rendering(planning, recipient, rendered)
        mails.append(planning.mail(recipient.address, template, mail))
    if mails or addressed.nobody_because is None:
        return Plan(mails=tuple(mails))
    template = planning.template(None)
    unsent = planning.mail(NOBODY, template, render(template, ticket=ticket, event=event, route=Route.SUPPORT_TEAM))
    return Plan(unaddressed=(Suppressed(unsent, f"nobody to mail: {addressed.nobody_because}"),))


def _rendering(
    planning: _Planning, recipient: Recipient, rendered: dict[tuple[str, Route], tuple[MailTemplate, RenderedMail]]
) -> tuple[MailTemplate, RenderedMail]:
    """The template and words for ``recipient``, rendered once for every recipient of its language and route."""
    template = planning.template(recipient.language)
    key = (template.language, recipient.route)
    if key not in rendered:
        rendered[key] = (
            template,
            render(template, ticket=planning.ticket, event=planning.event, route=recipient.route),
        )
    return rendered[key]
