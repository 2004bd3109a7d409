"""The words of each mail, in English and French, and the pure choice between them."""

from __future__ import annotations

from dataclasses import dataclass
from string import Template

from hostdesk_contracts.base import Status
from hostdesk_contracts.events import (
    ReplyPosted,
    StatusChanged,
    TicketClosed,
    TicketEvent,
    TicketMerged,
    TicketOpened,
)
from hostdesk_contracts.runtime.text import storable

from hostdesk_notify.domain.contacts import TicketContact
from hostdesk_notify.domain.recipients import MailKind, Route

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
        MailKind.NEW_TICKET_FOR_REQUESTER,
        "en",
        Template(
            "$author opened ticket #$number for you:\n\n"
            "$body\n\n"
            "-- \n"
            "Ticket #$number: $subject\n"
            "Reply to this e-mail to answer; please keep [#$number] in the subject.\n"
        ),
    ),
    MailTemplate(
        MailKind.NEW_TICKET_FOR_REQUESTER,
        "fr",
        Template(
            "$author a ouvert pour vous le ticket n° $number :\n\n"
            "$body\n\n"
            "-- \n"
            "Ticket n° $number : $subject\n"
            "Répondez à ce message pour continuer l'échange ; gardez [#$number] dans l'objet.\n"
        ),
    ),
    MailTemplate(
        MailKind.NEW_TICKET,
        "en",
        Template(
            "$author opened ticket #$number:\n\n$body\n\n-- \nTicket #$number: $subject\n${department_line}$why\n"
        ),
    ),
    MailTemplate(
        MailKind.NEW_TICKET,
        "fr",
        Template(
            "$author a ouvert le ticket n° $number :\n\n"
            "$body\n\n"
            "-- \n"
            "Ticket n° $number : $subject\n"
            "${department_line}"
            "$why\n"
        ),
    ),
    MailTemplate(
        MailKind.CUSTOMER_REPLY,
        "en",
        Template(
            "$author replied to ticket #$number:\n\n$body\n\n-- \nTicket #$number: $subject\n${department_line}$why\n"
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
            "${department_line}"
            "$why\n"
        ),
    ),
)

_REASON_LABEL = {"en": "Reason: ", "fr": "Motif : "}
_RESOLVED = {"en": "resolved", "fr": "résolu"}
_DEPARTMENT_LABEL = {"en": "Department: ", "fr": "Département : "}
# Who wrote to the requesting side, when the handling side's author has no display name: never its address.
_OUR_TEAM = {"en": "Our support team", "fr": "Notre équipe de support"}

# The last line of a mail to the handling side: why this reader gets it.
_WHY: dict[tuple[Route, str], str] = {
    (Route.ASSIGNEE, "en"): "You receive this because the ticket is assigned to you.",
    (Route.ASSIGNEE, "fr"): "Vous recevez ce message car ce ticket vous est attribué.",
    (Route.DEPARTMENT, "en"): "You receive this as a member of the $department department: nobody is assigned to "
    "the ticket.",
    (Route.DEPARTMENT, "fr"): "Vous recevez ce message en tant que membre du département $department : ce ticket "
    "n'est attribué à personne.",
    (Route.SUPPORT_TEAM, "en"): "You receive this as a member of the support team: nobody is assigned to the "
    "ticket and its department has no member to mail.",
    (Route.SUPPORT_TEAM, "fr"): "Vous recevez ce message en tant que membre de l'équipe de support : ce ticket "
    "n'est attribué à personne et son département n'a aucun membre à prévenir.",
    (Route.ACCOUNT, "en"): "You receive this because the tickets addressed to your account are sent to this address.",
    (Route.ACCOUNT, "fr"): "Vous recevez ce message car les tickets adressés à votre compte sont envoyés à cette "
    "adresse.",
}
_WHY_UNROUTED = {
    "en": "You receive this as a member of the support team: the ticket is in no department and nobody is "
    "assigned to it.",
    "fr": "Vous recevez ce message en tant que membre de l'équipe de support : ce ticket n'est dans aucun "
    "département et n'est attribué à personne.",
}


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


def render(
    template: MailTemplate, *, ticket: TicketContact, event: TicketEvent, route: Route = Route.REQUESTER
) -> RenderedMail:
    """The mail of ``template`` about ``event``, for a reader mailed for ``route``."""
    language = template.language
    values = (
        {"number": str(ticket.number), "subject": _one_line(ticket.subject)}
        | _event_values(event, language, to_handling_side=template.kind.to_handling_side)
        | _routing_values(ticket, route, language)
    )
    return RenderedMail(
        subject=storable(template.subject.substitute(values)), body=storable(template.body.substitute(values))
    )


def _routing_values(ticket: TicketContact, route: Route, language: str) -> dict[str, str]:
    """The ticket's department and why the reader gets the mail (the handling side's mail only)."""
    department = _one_line(ticket.department) if ticket.department else ""
    if route is Route.SUPPORT_TEAM and not department:
        why = _WHY_UNROUTED[language]  # the whole team, because the ticket is in no department
    else:
        why = Template(_WHY.get((route, language), "")).safe_substitute(department=department)
    line = f"{_DEPARTMENT_LABEL[language]}{department}\n" if department else ""
    return {"why": why, "department_line": line}


def _event_values(event: TicketEvent, language: str, *, to_handling_side: bool) -> dict[str, str]:
    """What the event puts into its mail; every name a template may use has a value, empty when unused. The author
    is named to the handling side as the directory names the requester; to the requesting side by display name
    only, so that no address of the handling side's staff ever reaches it."""
    values = {"body": "", "reason": "", "status": "", "into_number": "", "author": ""}
    match event:
        case ReplyPosted(body=body, actor=actor) | TicketOpened(body=body, actor=actor):
            values["body"] = body
            if to_handling_side:
                values["author"] = _one_line(actor.display_name or actor.email or actor.account_id)
            else:
                values["author"] = _one_line(actor.display_name or "") or _OUR_TEAM[language]
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
