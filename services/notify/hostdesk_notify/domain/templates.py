"""The words of each mail, in English and French (Jinja2 templates), and the pure choice between them."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

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
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from jinja2 import Template as Jinja

from hostdesk_notify.domain.contacts import TicketContact
from hostdesk_notify.domain.recipients import MailKind, Route

SUPPORTED_LANGUAGES = ("en", "fr")

# The words are Jinja2 templates in ``templates/<language>/<kind>.txt`` (with the footers they share), and the
# subject ``templates/subject.txt``: it always starts with the ticket number, so that replies find their ticket.
# Plain text is not escaped; a name a template uses and the values lack is an error, never an empty string.
ENVIRONMENT = Environment(
    loader=PackageLoader("hostdesk_notify", "templates"),
    undefined=StrictUndefined,
    autoescape=select_autoescape(("html",)),  # the .txt templates are plain text: escaped only in HTML
    keep_trailing_newline=True,
)


@dataclass(frozen=True)
class MailTemplate:
    kind: MailKind
    language: str

    @property
    def name(self) -> str:
        """The template file of its words."""
        return f"{self.language}/{self.kind.value}.txt"


@dataclass(frozen=True)
class RenderedMail:
    subject: str
    body: str


_TEMPLATES: tuple[MailTemplate, ...] = tuple(
    MailTemplate(kind, language) for kind in MailKind for language in SUPPORTED_LANGUAGES
)


@cache
def _compiled(name: str) -> Jinja:
    """Each template compiled once, the first time a mail needs it."""
    return ENVIRONMENT.get_template(name)


_REASON_LABEL = {"en": "Reason: ", "fr": "Motif : "}
_RESOLVED = {"en": "resolved", "fr": "résolu"}
_DEPARTMENT_LABEL = {"en": "Department: ", "fr": "Département : "}
# Who wrote to the requesting side, when the handling side's author has no display name: never its address.
_OUR_TEAM = {"en": "Our support team", "fr": "Notre équipe de support"}

# The last line of a mail to the handling side: why this reader gets it.
_WHY: dict[tuple[Route, str], str] = {
    (Route.ASSIGNEE, "en"): "You receive this because the ticket is assigned to you.",
    (Route.ASSIGNEE, "fr"): "Vous recevez ce message car ce ticket vous est attribué.",
    (Route.DEPARTMENT, "en"): "You receive this as a member of the {department} department: nobody is assigned to "
    "the ticket.",
    (Route.DEPARTMENT, "fr"): "Vous recevez ce message en tant que membre du département {department} : ce ticket "
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
        subject=storable(_compiled("subject.txt").render(values)),
        body=storable(_compiled(template.name).render(values)),
    )


def _routing_values(ticket: TicketContact, route: Route, language: str) -> dict[str, str]:
    """The ticket's department and why the reader gets the mail (the handling side's mail only)."""
    department = _one_line(ticket.department) if ticket.department else ""
    if route is Route.SUPPORT_TEAM and not department:
        why = _WHY_UNROUTED[language]  # the whole team, because the ticket is in no department
    else:
        why = _WHY.get((route, language), "").format(department=department)
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
