"""The words of each mail, in English and French, and the pure choice between them."""

from __future__ import annotations

from dataclasses import dataclass
from string import Template

from hostdesk_contracts.base import Status
from hostdesk_contracts.events import ReplyPosted, StatusChanged, TicketClosed, TicketEvent, TicketMerged
from hostdesk_contracts.runtime.text import storable

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
        MailKind.TICKET_RESOLVED,
        "en",
        Template(
            'The status of your ticket #$number "$subject" is now: $status.\n'
            "${reason}"
            "If the problem is not solved, reply to this e-mail and we will look at it again.\n"
            "You can rate our support on the ticket's page.\n"
        ),
    ),
    MailTemplate(
        MailKind.TICKET_RESOLVED,
        "fr",
        Template(
            "Le statut de votre ticket n° $number « $subject » est maintenant : $status.\n"
            "${reason}"
            "Si le problème n'est pas réglé, répondez à ce message et nous reprendrons l'examen.\n"
            "Vous pouvez évaluer notre support depuis la page du ticket.\n"
        ),
    ),
    MailTemplate(
        MailKind.TICKET_CLOSED,
        "en",
        Template(
            'Your ticket #$number "$subject" was closed.\n'
            "${reason}"
            "If something is still wrong, reply to this e-mail and the ticket opens again.\n"
        ),
    ),
    MailTemplate(
        MailKind.TICKET_CLOSED,
        "fr",
        Template(
            "Votre ticket n° $number « $subject » a été fermé.\n"
            "${reason}"
            "Si le problème persiste, répondez à ce message : le ticket sera rouvert.\n"
        ),
    ),
    MailTemplate(
        MailKind.TICKET_AUTO_CLOSED,
        "en",
        Template(
            'Your ticket #$number "$subject" was closed automatically: we answered it and have had no reply from '
            "you since.\n"
            "${reason}"
            "If something is still wrong, reply to this e-mail and the ticket opens again.\n"
        ),
    ),
    MailTemplate(
        MailKind.TICKET_AUTO_CLOSED,
        "fr",
        Template(
            "Votre ticket n° $number « $subject » a été fermé automatiquement : nous y avions répondu et n'avons "
            "pas eu de réponse de votre part depuis.\n"
            "${reason}"
            "Si le problème persiste, répondez à ce message : le ticket sera rouvert.\n"
        ),
    ),
    MailTemplate(
        MailKind.TICKET_MERGED,
        "en",
        Template(
            'Your ticket #$number "$subject" was merged into ticket #$into_number: the conversation continues '
            "in #$into_number.\n"
            "To write to us about it, write in ticket #$into_number and keep [#$into_number] in the subject.\n"
        ),
    ),
    MailTemplate(
        MailKind.TICKET_MERGED,
        "fr",
        Template(
            "Votre ticket n° $number « $subject » a été fusionné avec le ticket n° $into_number : la conversation "
            "continue dans le n° $into_number.\n"
            "Pour nous écrire à ce sujet, écrivez dans le ticket n° $into_number en gardant [#$into_number] dans "
            "l'objet.\n"
        ),
    ),
    MailTemplate(
        MailKind.CUSTOMER_REPLY,
        "en",
        Template(
            "$author replied to ticket #$number:\n\n"
            "$body\n\n"
            "-- \n"
            "Ticket #$number: $subject\n"
            "You receive this because the ticket is assigned to you.\n"
        ),
    ),
    MailTemplate(
        MailKind.CUSTOMER_REPLY,
        "fr",
        Template(
            "$author a répondu sur le ticket n° $number :\n\n"
            "$body\n\n"
            "-- \n"
            "Ticket n° $number : $subject\n"
            "Vous recevez ce message car ce ticket vous est attribué.\n"
        ),
    ),
)

_REASON_LABEL = {"en": "Reason: ", "fr": "Motif : "}
_RESOLVED = {"en": "resolved", "fr": "résolu"}


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
    language = template.language
    values = {"number": str(ticket.number), "subject": _one_line(ticket.subject)} | _event_values(event, language)
    return RenderedMail(
        subject=storable(template.subject.substitute(values)), body=storable(template.body.substitute(values))
    )


def _event_values(event: TicketEvent, language: str) -> dict[str, str]:
    """What the event puts into its mail; every name a template may use has a value, empty when unused."""
    values = {"body": "", "reason": "", "status": "", "into_number": "", "author": ""}
    match event:
        case ReplyPosted(body=body, actor=actor):
            values["body"] = body
            values["author"] = _one_line(actor.display_name or actor.email or actor.account_id)
        case StatusChanged(to_status=Status.RESOLVED, status_label=label, reason=reason):
            # The provider's own label is what its customers know the status by.
            values["status"] = _one_line(label) if label else _RESOLVED[language]
            values["reason"] = _reason_line(reason, language)
        case TicketClosed(reason=reason):
            values["reason"] = _reason_line(reason, language)
        case TicketMerged(into_number=into_number):
            values["into_number"] = str(into_number)
    return values


def _reason_line(reason: str | None, language: str) -> str:
    return f"{_REASON_LABEL[language]}{reason}\n" if reason else ""
