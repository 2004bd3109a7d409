from hostdesk_notify.domain.recipients import MailKind
from hostdesk_notify.domain.templates import choose_template, render

from tests.unit.notify.builders import TicketStory


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
    story = TicketStory(number=482913, subject="Website down")
    reply = story.staff_reply("We restarted the web server.")
    template = choose_template(MailKind.STAFF_REPLY, language="en", default_language="en")

    mail = render(template, ticket=story.contact(), event=reply)

    assert mail.subject == "[#482913] Website down"
    assert mail.body.startswith("We restarted the web server.")
    assert "keep [#482913] in the subject" in mail.body


def test_a_staff_reply_in_french_carries_the_ticket_number_and_french_words() -> None:
    story = TicketStory(number=482913, subject="Site en panne")
    template = choose_template(MailKind.STAFF_REPLY, language="fr", default_language="en")

    mail = render(template, ticket=story.contact(), event=story.staff_reply("Le serveur a redémarré."))

    assert mail.subject == "[#482913] Site en panne"
    assert "gardez [#482913] dans l'objet" in mail.body


def test_a_closure_notice_says_which_ticket_was_closed_and_why() -> None:
    story = TicketStory(number=77, subject="Website down")
    template = choose_template(MailKind.TICKET_CLOSED, language="en", default_language="en")

    mail = render(template, ticket=story.contact(), event=story.closed(reason="Fixed upstream"))

    assert mail.subject == "[#77] Website down"
    assert mail.body.startswith('Your ticket #77 "Website down" was closed.')
    assert "Reason: Fixed upstream" in mail.body


def test_a_closure_notice_in_french_says_the_ticket_was_closed() -> None:
    story = TicketStory(number=77, subject="Site en panne")
    template = choose_template(MailKind.TICKET_CLOSED, language="fr", default_language="en")

    mail = render(template, ticket=story.contact(), event=story.closed(reason="Corrigé"))

    assert mail.body.startswith("Votre ticket n° 77 « Site en panne » a été fermé.")
    assert "Motif : Corrigé" in mail.body


def test_line_breaks_in_a_ticket_subject_never_reach_the_mail_subject() -> None:
    story = TicketStory(subject="Down\r\nBcc: everyone@example.com")
    template = choose_template(MailKind.STAFF_REPLY, language="en", default_language="en")

    mail = render(template, ticket=story.contact(), event=story.staff_reply())

    assert mail.subject == "[#482913] Down Bcc: everyone@example.com"


def test_dollar_signs_in_a_reply_are_kept_as_written() -> None:
    story = TicketStory()
    template = choose_template(MailKind.STAFF_REPLY, language="en", default_language="en")

    mail = render(template, ticket=story.contact(), event=story.staff_reply("The plan costs $number $5."))

    assert mail.body.startswith("The plan costs $number $5.")
