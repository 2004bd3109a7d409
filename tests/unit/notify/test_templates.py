from typing import Any

import pytest
from hostdesk_contracts.base import Side, Status
from hostdesk_contracts.events import TicketEvent
from hostdesk_devtools.stories import TicketStory, every_kind_of_event
from hostdesk_notify.domain.planning import plan_mails
from hostdesk_notify.domain.recipients import MailKind, Route
from hostdesk_notify.domain.templates import ENVIRONMENT, SUPPORTED_LANGUAGES, RenderedMail, choose_template, render
from jinja2 import UndefinedError

from tests.unit.notify.builders import ASSIGNEE_EMAIL, REQUESTER, REQUESTER_EMAIL, STAFF, SYSTEM, TENANT, contact


def test_the_installation_language_is_chosen_when_the_reader_has_none() -> None:
    template = choose_template(MailKind.STAFF_REPLY, language=None, default_language="fr")

    assert template.language == "fr"


def test_a_regional_variant_of_a_language_gets_that_language() -> None:
    template = choose_template(MailKind.TICKET_CLOSED, language="fr-CA", default_language="en")

    assert template.language == "fr"


def test_an_unsupported_language_falls_back_to_the_installation_language() -> None:
    template = choose_template(MailKind.STAFF_REPLY, language="de", default_language="fr")

    assert template.language == "fr"


def test_an_unsupported_installation_language_falls_back_to_english() -> None:
    template = choose_template(MailKind.STAFF_REPLY, language=None, default_language="xx")

    assert template.language == "en"


def test_a_staff_reply_in_english_carries_the_ticket_number_and_the_reply() -> None:
    story = TicketStory(REQUESTER, number=482913, subject="Website down")
    reply = story.reply(STAFF, "We restarted the web server.")
    template = choose_template(MailKind.STAFF_REPLY, language="en", default_language="en")

    mail = render(template, ticket=contact(story), event=reply)

    assert mail.subject == "[#482913] Website down"
    assert mail.body.startswith("We restarted the web server.")
    assert "keep [#482913] in the subject" in mail.body


def test_a_staff_reply_in_french_carries_the_ticket_number_and_french_words() -> None:
    story = TicketStory(REQUESTER, number=482913, subject="Site en panne")
    template = choose_template(MailKind.STAFF_REPLY, language="fr", default_language="en")

    mail = render(template, ticket=contact(story), event=story.reply(STAFF, "Le serveur a redémarré."))

    assert mail.subject == "[#482913] Site en panne"
    assert "gardez [#482913] dans l'objet" in mail.body


def test_a_closure_notice_says_which_ticket_was_closed_and_why() -> None:
    story = TicketStory(REQUESTER, number=77, subject="Website down")
    template = choose_template(MailKind.TICKET_CLOSED, language="en", default_language="en")

    mail = render(template, ticket=contact(story), event=story.close(STAFF, "Fixed upstream"))

    assert mail.subject == "[#77] Website down"
    assert mail.body.startswith('Your ticket #77 "Website down" was closed.')
    assert "Reason: Fixed upstream" in mail.body


def test_a_closure_notice_in_french_says_the_ticket_was_closed() -> None:
    story = TicketStory(REQUESTER, number=77, subject="Site en panne")
    template = choose_template(MailKind.TICKET_CLOSED, language="fr", default_language="en")

    mail = render(template, ticket=contact(story), event=story.close(STAFF, "Corrigé"))

    assert mail.body.startswith("Votre ticket n° 77 « Site en panne » a été fermé.")
    assert "Motif : Corrigé" in mail.body


def test_line_breaks_in_a_ticket_subject_never_reach_the_mail_subject() -> None:
    story = TicketStory(REQUESTER, number=482913, subject="Down\r\nBcc: everyone@example.com")
    template = choose_template(MailKind.STAFF_REPLY, language="en", default_language="en")

    mail = render(template, ticket=contact(story), event=story.reply(STAFF))

    assert mail.subject == "[#482913] Down Bcc: everyone@example.com"


def test_dollar_signs_in_a_reply_are_kept_as_written() -> None:
    story = TicketStory(REQUESTER)
    template = choose_template(MailKind.STAFF_REPLY, language="en", default_language="en")

    mail = render(template, ticket=contact(story), event=story.reply(STAFF, "The plan costs $number $5."))

    assert mail.body.startswith("The plan costs $number $5.")


def test_template_syntax_in_a_reply_or_a_subject_is_kept_as_written_never_run() -> None:
    story = TicketStory(REQUESTER, subject="{{ number }} {% if true %}x{% endif %}")
    template = choose_template(MailKind.STAFF_REPLY, language="en", default_language="en")

    mail = render(template, ticket=contact(story), event=story.reply(STAFF, "Try {{ 7 * 7 }} and {# this #}."))

    assert mail.body.startswith("Try {{ 7 * 7 }} and {# this #}.")
    assert mail.subject == f"[#{story.number}] {{{{ number }}}} {{% if true %}}x{{% endif %}}"


def test_a_template_naming_a_value_the_mail_lacks_fails_instead_of_writing_nothing() -> None:
    with pytest.raises(UndefinedError):
        ENVIRONMENT.from_string("Ticket #{{ number }} for {{ nobody }}").render(number=5)


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
@pytest.mark.parametrize("kind", list(MailKind))
def test_every_kind_of_mail_has_its_own_template_in_each_language(kind: MailKind, language: str) -> None:
    template = choose_template(kind, language=language, default_language="en")

    assert (template.kind, template.language) == (kind, language)


def _rendered(
    kind: MailKind, language: str, story: TicketStory, event: TicketEvent, route: Route = Route.REQUESTER, **kept: Any
) -> RenderedMail:
    template = choose_template(kind, language=language, default_language="en")
    return render(template, ticket=contact(story, **kept), event=event, route=route)


def test_a_resolution_notice_says_the_ticket_is_resolved_and_invites_a_rating() -> None:
    story = TicketStory(REQUESTER, number=77, subject="Website down")

    mail = _rendered(MailKind.TICKET_RESOLVED, "en", story, story.status_change(STAFF, Status.RESOLVED))

    assert mail.subject == "[#77] Website down"
    assert mail.body.startswith('The status of your ticket #77 "Website down" is now: resolved.\n')
    assert "rate our support" in mail.body
    assert "Reason" not in mail.body


def test_a_resolution_notice_shows_the_providers_own_label_and_the_reason() -> None:
    story = TicketStory(REQUESTER, number=77)

    mail = _rendered(
        MailKind.TICKET_RESOLVED,
        "en",
        story,
        story.status_change(STAFF, Status.RESOLVED, label="Fixed", reason="DNS corrected"),
    )

    assert "is now: Fixed.\nReason: DNS corrected\n" in mail.body


def test_a_resolution_notice_in_french_says_the_ticket_is_resolved() -> None:
    story = TicketStory(REQUESTER, number=77, subject="Site en panne")

    mail = _rendered(MailKind.TICKET_RESOLVED, "fr", story, story.status_change(STAFF, Status.RESOLVED))

    assert mail.body.startswith("Le statut de votre ticket n° 77 « Site en panne » est maintenant : résolu.\n")
    assert "évaluer notre support" in mail.body


def test_an_automatic_closure_notice_says_it_closed_for_want_of_a_reply_and_the_recorded_reason() -> None:
    story = TicketStory(REQUESTER, number=77, subject="Website down")

    mail = _rendered(
        MailKind.TICKET_AUTO_CLOSED, "en", story, story.close(SYSTEM, "No reply for 7 days", automatic=True)
    )

    assert mail.body.startswith('Your ticket #77 "Website down" was closed automatically: we answered it and have had')
    assert "Reason: No reply for 7 days\n" in mail.body
    assert "reply to this e-mail and the ticket opens again" in mail.body


def test_an_automatic_closure_notice_in_french_says_why_in_french() -> None:
    story = TicketStory(REQUESTER, number=77, subject="Site en panne")

    mail = _rendered(
        MailKind.TICKET_AUTO_CLOSED, "fr", story, story.close(SYSTEM, "No reply for 7 days", automatic=True)
    )

    assert mail.body.startswith("Votre ticket n° 77 « Site en panne » a été fermé automatiquement : nous y avions")
    assert "pas eu de réponse de votre part" in mail.body
    assert "Motif : No reply for 7 days\n" in mail.body


def test_a_merge_notice_says_where_the_conversation_continues() -> None:
    story, target = TicketStory(REQUESTER, number=77, subject="Website down"), TicketStory(REQUESTER, number=500123)

    mail = _rendered(MailKind.TICKET_MERGED, "en", story, story.merge_into(STAFF, target))

    assert mail.subject == "[#77] Website down"
    assert "the conversation continues in #500123." in mail.body
    assert "keep [#500123] in the subject" in mail.body


def test_a_merge_notice_in_french_says_where_the_conversation_continues() -> None:
    story, target = TicketStory(REQUESTER, number=77, subject="Site en panne"), TicketStory(REQUESTER, number=500123)

    mail = _rendered(MailKind.TICKET_MERGED, "fr", story, story.merge_into(STAFF, target))

    assert "la conversation continue dans le n° 500123." in mail.body


def test_a_customer_reply_to_the_assignee_names_its_author_and_carries_the_reply() -> None:
    story = TicketStory(REQUESTER, number=77, subject="Website down")
    reply = story.reply(REQUESTER, "Still down for me.")

    mail = _rendered(MailKind.CUSTOMER_REPLY, "en", story, reply, Route.ASSIGNEE, assignee_email="kim@hostdesk.test")

    assert mail.subject == "[#77] Website down"
    assert mail.body.startswith(f"{REQUESTER_EMAIL} replied to ticket #77:\n\nStill down for me.\n")
    assert "assigned to you" in mail.body


def test_a_customer_reply_to_the_assignee_in_french_says_who_answered() -> None:
    story = TicketStory(REQUESTER, number=77)

    mail = _rendered(MailKind.CUSTOMER_REPLY, "fr", story, story.reply(REQUESTER, "Toujours en panne."), Route.ASSIGNEE)

    assert mail.body.startswith(f"{REQUESTER_EMAIL} a répondu sur le ticket n° 77 :\n\nToujours en panne.\n")
    assert "vous est attribué" in mail.body


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_every_mail_of_the_whole_lifecycle_renders_in_each_language(language: str) -> None:
    lifecycle = every_kind_of_event(TENANT)
    story = lifecycle.target
    # The lifecycle ends closed by itself; a close by staff is a mail of its own kind.
    events = [*lifecycle.events, story.reopen(lifecycle.requester), story.close(lifecycle.agent, "Fixed.")]
    # And a ticket the handling side opens to its requester.
    events.append(TicketStory(lifecycle.requester).opened().model_copy(update={"side": Side.HANDLER}))

    mails = [
        plan_mails(
            event, contact(story, assignee_email=ASSIGNEE_EMAIL), default_language=language, domain="h.test"
        ).mails
        for event in events
    ]

    assert all(mail.subject.startswith(f"[#{story.number}] ") for batch in mails for mail in batch)
    assert {mail.kind for batch in mails for mail in batch} == set(MailKind)


def test_nul_characters_pasted_into_a_reply_reach_the_mail_as_replacement_characters() -> None:
    story = TicketStory(REQUESTER)
    template = choose_template(MailKind.STAFF_REPLY, language="en", default_language="en")

    mail = render(template, ticket=contact(story), event=story.reply(STAFF, "Log:\x00\x00 disk full"))

    assert mail.body.startswith("Log:\ufffd\ufffd disk full")
    assert "\x00" not in mail.body
