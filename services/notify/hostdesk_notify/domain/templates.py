"""The words of each mail, in English and French, and the pure choice between them."""

from __future__ import annotations

from dataclasses import dataclass
from string import Template

from hostdesk_contracts.events import ReplyPosted, TicketClosed, TicketEvent

from hostdesk_notify.domain.contacts import TicketContact
from hostdesk_notify.domain.recipients import MailKind

SUPPORTED_LANGUAGES = ("en", "fr")

# The subject always starts with the ticket number, so that replies find their ticket.
_SUBJECT = Template("[#$number] $subject")


@dataclass(frozen=True)
class MailTemplate:
    kind: MailKind
    language: str
    body: Template
    subject: Template = _SUBJECT


@dataclass(frozen=True)
class RenderedMail:
    subject: str
    body: str


_TEMPLATES: tuple[MailTemplate, ...] = (
    MailTemplate(
        MailKind.STAFF_REPLY,
        "en",
        Template(
            "$body\n\n"
            "-- \n"
            "Ticket #$number: $subject\n"
            "Reply to this e-mail to answer; please keep [#$number] in the subject.\n"
        ),
    ),
    MailTemplate(
        MailKind.STAFF_REPLY,
        "fr",
        Template(
            "$body\n\n"
            "-- \n"
            "Ticket n° $number : $subject\n"
            "Répondez à ce message pour continuer l'échange ; gardez [#$number] dans l'objet.\n"
        ),
    ),
    MailTemplate(
        MailKind.TICKET_CLOSED,
        "en",
        Template(
            'Your ticket #$number "$subject" was closed.\n'
            "$reason\n"
            "If something is still wrong, reply to this e-mail and the ticket opens again.\n"
        ),
    ),
    MailTemplate(
        MailKind.TICKET_CLOSED,
        "fr",
        Template(
            "Votre ticket n° $number « $subject » a été fermé.\n"
            "$reason\n"
            "Si le problème persiste, répondez à ce message : le ticket sera rouvert.\n"
        ),
    ),
)

_REASON_LABEL = {"en": "Reason: ", "fr": "Motif : "}


def normalise_language(language: str | None) -> str | None:
    """``fr-CA`` and ``FR_fr`` both mean ``fr``; anything unsupported means no preference."""
    if not language:
        return None
    primary = language.replace("_", "-").split("-")[0].lower()
    return primary if primary in SUPPORTED_LANGUAGES else None


def choose_template(kind: MailKind, *, language: str | None, default_language: str) -> MailTemplate:
    """The template of this kind in the reader's language, else the installation's, else English."""
    wanted = (normalise_language(language), normalise_language(default_language), "en")
    for candidate in wanted:
        for template in _TEMPLATES:
            if template.kind is kind and template.language == candidate:
                return template
    raise LookupError(f"no template for {kind}")  # every kind has an English template


def _one_line(text: str) -> str:
    """Header-safe: a subject with line breaks would split the mail's headers."""
    return " ".join(text.split())


def render(template: MailTemplate, *, ticket: TicketContact, event: TicketEvent) -> RenderedMail:
    subject = _one_line(ticket.subject)
    values = {"number": str(ticket.number), "subject": subject, "body": "", "reason": ""}
    if isinstance(event, ReplyPosted):
        values["body"] = event.body
    if isinstance(event, TicketClosed) and event.reason:
        values["reason"] = f"{_REASON_LABEL[template.language]}{event.reason}\n"
    return RenderedMail(subject=template.subject.substitute(values), body=template.body.substitute(values))
