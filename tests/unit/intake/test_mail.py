"""Reading inbound support e-mail: a corpus of ordinary, broken and hostile messages (``mail_corpus/``, one message a
file, and some built here where a file would be huge), each with what it must give: a mail read (its subject,
sender, text and files), a quarantine with its reason, or a screening. Then the threading hints, the identity of a
message, and random bytes and mutations that must never raise anything but ``Unreadable``."""

from __future__ import annotations

import base64
import random
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
from hostdesk_intake.domain.mail import (
    CUT_NOTE,
    DEFAULT_LIMITS,
    NO_SUBJECT,
    InboundMail,
    MailLimits,
    Screened,
    Unreadable,
    identity_of,
    plus_ticket_number,
    read_mail,
    screening,
    thread_ticket_ids,
    ticket_numbers_in,
)

CORPUS = Path(__file__).parent / "mail_corpus"
OWN = frozenset({"support@example.com", "noreply@example.com"})
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


@dataclass(frozen=True)
class Read:
    subject: str
    sender: str
    fragment: str  # a piece of the text
    files: int = 0
    screened: Screened | None = None


@dataclass(frozen=True)
class Quarantined:
    word: str  # a word of the reason


EXPECTED: dict[str, Read | Quarantined] = {
    "plain_text.eml": Read("VPS vps-1042 does not answer since this morning", "ada@customer.example", "ping or SSH"),
    "html_only.eml": Read("Site down", "bob@shop.example", "The shop server is down since noon."),
    "alternative.eml": Read("DNS change for agency.example", "carol@agency.example", "(plain version)"),
    "latin1_declared.eml": Read("Messagerie en panne", "denis@boulangerie.example", "ne répond plus"),
    "undeclared_8bit.eml": Read("Problème de certificat", "renee@example.org", "a expiré ce matin, déjà"),
    "undeclared_8bit_cp1252.eml": Read("Facture réglée", "eve@example.org", "J'ai payé 20 € hier"),
    "wrong_charset.eml": Read("Upgrade price", "frank@example.org", "costs 20 € — is that"),
    "unknown_charset.eml": Read("Backup restore", "gina@example.org", "Ça marche : la sauvegarde est restaurée."),
    "rfc2047_utf8_base64.eml": Read("Site hors ligne — urgent", "helene@example.fr", "hors ligne"),
    "rfc2047_latin1_qp.eml": Read("Problème de messagerie après migration", "andre@example.fr", "après la migration"),
    "french_reply.eml": Read("Re: [HostDesk #482913] Site en panne", "marie@boulangerie.example", "redémarré"),
    "outlook_reply.eml": Read("RE: [Ticket #77120] Mailbox quota", "john.smith@corp.example", "Original Message"),
    "gmail_reply.eml": Read("Re: Ticket 55301: DNS not propagating", "priya.raman@gmail.example", "caches"),
    "path_traversal_name.eml": Read("Log file", "ivan@example.org", "attached", files=1),
    "right_to_left_name.eml": Read("Invoice", "ivan@example.org", "attached", files=1),
    "png_named_pdf.eml": Read("Screenshot of the error", "ivan@example.org", "attached", files=1),
    "missing_closing_boundary.eml": Read("Error log attached", "judy@example.org", "cut by my provider", files=1),
    "missing_content_type.eml": Read("No content type here", "ken@example.org", "from an old script"),
    "bad_base64_padding.eml": Read("Base64 without padding", "laura@example.org", "stopped running on Friday."),
    "malformed_message_id.eml": Read("No date, odd id", "mallory@example.org", "no angle brackets"),
    "message_rfc822_attached.eml": Read("Fwd: invoice I did not expect", "nina@example.org", "Why did I", files=1),
    "related_inline_images.eml": Read("Layout broken", "oscar@example.org", "The header looks like this:", files=1),
    "eleven_attachments.eml": Quarantined("attachments"),
    "missing_from.eml": Quarantined("From"),
    "from_without_address.eml": Quarantined("address"),
    "nul_in_header.eml": Quarantined("NUL"),
    "auto_submitted_auto_replied.eml": Read(
        "Out of office", "sam@example.org", "away", screened=Screened.AUTO_SUBMITTED
    ),
    "auto_submitted_auto_generated.eml": Read(
        "Disk usage report", "sam@example.org", "away", screened=Screened.AUTO_SUBMITTED
    ),
    "auto_submitted_no.eml": Read("Written by a person", "sam@example.org", "I wrote this myself."),
    "x_autoreply.eml": Read("Out of office", "sam@example.org", "away", screened=Screened.AUTO_REPLY),
    "x_autorespond.eml": Read("Out of office", "sam@example.org", "away", screened=Screened.AUTO_REPLY),
    "x_auto_response_suppress.eml": Read("Question about PHP 8.3", "sam@example.org", "PHP 8.3?"),
    "precedence_bulk.eml": Read("Our February newsletter", "sam@example.org", "away", screened=Screened.BULK),
    "precedence_junk.eml": Read("You won", "sam@example.org", "away", screened=Screened.BULK),
    "precedence_list.eml": Read("[users] weekly digest", "sam@example.org", "away", screened=Screened.BULK),
    "list_id.eml": Read("[users] PHP question", "sam@example.org", "away", screened=Screened.BULK),
    "bounce_rfc3464.eml": Read(
        "Delivery Status Notification (Failure)",
        "bounces@mx.example.net",
        "failed permanently",
        screened=Screened.DELIVERY_REPORT,
    ),
    "read_receipt.eml": Read("Read: Your ticket", "tom@example.org", "displayed", screened=Screened.DELIVERY_REPORT),
    "mailer_daemon.eml": Read(
        "Undelivered Mail Returned to Sender",
        "mailer-daemon@mx.example.net",
        "mail system",
        screened=Screened.DELIVERY_REPORT,
    ),
    "null_return_path.eml": Read(
        "Warning: message delayed", "robot@example.net", "still queued", screened=Screened.DELIVERY_REPORT
    ),
    "own_address.eml": Read(
        "Re: [#482913] Site en panne", "support@example.com", "away", screened=Screened.OWN_ADDRESS
    ),
    "x_loop.eml": Read("Fwd: your ticket", "sam@example.org", "away", screened=Screened.OWN_ADDRESS),
}


def corpus(name: str) -> bytes:
    return (CORPUS / name).read_bytes()


def mail(name: str) -> InboundMail:
    return read_mail(corpus(name))


def screened(raw: bytes, *, return_path: str | None = None) -> Screened | None:
    return screening(raw, read_mail(raw), own_addresses=OWN, return_path=return_path)


def unreadable_reason(raw: bytes, *, limits: MailLimits = DEFAULT_LIMITS) -> str:
    with pytest.raises(Unreadable) as raised:
        read_mail(raw, limits=limits)
    return raised.value.reason


def test_every_message_of_the_corpus_has_its_expected_outcome() -> None:
    assert sorted(path.name for path in CORPUS.glob("*.eml")) == sorted(EXPECTED)


@pytest.mark.parametrize(("name", "expected"), EXPECTED.items(), ids=list(EXPECTED))
def test_a_corpus_message_gives_what_is_expected_of_it(name: str, expected: Read | Quarantined) -> None:
    raw = corpus(name)

    if isinstance(expected, Quarantined):
        assert expected.word in unreadable_reason(raw)
        return
    read = read_mail(raw)
    assert (read.subject, read.sender.address) == (expected.subject, expected.sender)
    assert expected.fragment in read.text
    assert len(read.files) == expected.files
    assert screening(raw, read, own_addresses=OWN, return_path=None) is expected.screened


# The text and the reply.


def test_html_only_mail_reads_as_its_text_without_script_or_style_and_keeps_web_link_targets() -> None:
    text = mail("html_only.eml").text

    assert "alert" not in text
    assert "tracking" not in text
    assert "color" not in text
    assert "Ignored title" not in text
    assert "See our status page (https://status.shop.example/incident/7) or this." in text
    assert "javascript" not in text
    assert "- checkout\n- login" in text
    assert text.endswith("Bob\nShop owner")


def test_html_nested_or_repeated_20000_times_is_read_in_time_linear_in_its_length() -> None:
    deep = "<div>" * 20_000 + "deep" + "</div>" * 20_000
    wide = '<p>row <a href="https://x.example/">link</a></p>' * 20_000
    raw = f"From: a@b.example\nContent-Type: text/html\n\n{deep}{wide}".encode()
    started = time.monotonic()

    text = read_mail(raw).text

    assert text.startswith("deep\n\nrow link (https://x.example/)\n\nrow link")
    assert time.monotonic() - started < 5.0  # changing the tree in place took minutes


def test_the_html_of_an_alternative_is_read_only_when_the_plain_text_says_nothing() -> None:
    raw = (
        b"From: a@b.example\nContent-Type: multipart/alternative; boundary=A\n\n"
        b"--A\nContent-Type: text/plain\n\n \n--A\nContent-Type: text/html\n\n<p>Only <i>here</i></p>\n--A--\n"
    )

    assert read_mail(raw).text == "Only here"


def test_a_french_reply_is_trimmed_of_its_quote_and_signature_and_its_text_keeps_them() -> None:
    read = mail("french_reply.eml")

    assert read.reply == (
        "Bonjour,\n\nLe site est toujours en panne depuis ce matin, sur deux pages :\n"
        "- la page d'accueil\n- le panier\n\nMerci,\nMarie"
    )
    assert "Boulangerie Dupont" in read.text
    assert "Nous avons redémarré le serveur web" in read.text
    assert read.language_hint == "fr"


def test_an_outlook_reply_is_trimmed_at_its_original_message() -> None:
    assert mail("outlook_reply.eml").reply == "Thanks, the quota is fine now. Please close the ticket.\n\nJohn"


def test_a_gmail_reply_is_trimmed_at_its_wrapped_wrote_line() -> None:
    assert mail("gmail_reply.eml").reply == "It works from here now, thank you!"


def test_a_reply_with_nothing_to_trim_is_the_text_and_a_reply_below_its_quote_is_the_whole_text() -> None:
    plain = mail("plain_text.eml")
    below = read_mail(b"From: a@b.example\n\nOn Mon, Feb 3, 2025, Support wrote:\n> Fixed?\n\nYes, fixed.\n")

    assert plain.reply == plain.text
    assert below.reply == below.text == "On Mon, Feb 3, 2025, Support wrote:\n> Fixed?\n\nYes, fixed."


def test_an_outlook_header_block_in_french_and_a_trailing_quote_are_trimmed() -> None:
    outlook = read_mail(
        "From: a@b.example\n\nC'est réglé.\n\n________________________________\nDe : Support <s@x.example>\n"
        "Envoyé : lundi 3 février 2025 10:00\nÀ : moi\nObjet : panne\n\nRedémarré.\n".encode()
    )
    quoted = read_mail(b"From: a@b.example\n\nStill down.\n\n> Is it up now?\n> Support\n")

    assert outlook.reply == "C'est réglé."
    assert quoted.reply == "Still down."


def test_a_body_over_the_limit_is_cut_with_a_note_within_the_limit() -> None:
    raw = b"From: a@b.example\n\n" + b"The disk is full again.\n" * 10_000

    text = read_mail(raw, limits=MailLimits(max_body_chars=20_000)).text

    assert len(text) <= 20_000
    assert text.startswith("The disk is full again.\n")
    assert text.endswith(f"\n\n{CUT_NOTE}")


def test_a_message_with_no_subject_and_no_text_says_so() -> None:
    read = read_mail(b"From: a@b.example\nSubject:  \t \n\n")

    assert read.subject == NO_SUBJECT
    assert read.text == read.reply == "(no text)"


# Headers.


def test_the_headers_of_a_plain_message_are_read() -> None:
    read = mail("plain_text.eml")

    assert read.sender.name == "Ada Lovelace"
    assert read.reply_to is not None
    assert read.reply_to.address == "ada.replies@customer.example"
    assert [address.address for address in read.to] == ["support@example.com"]
    assert [address.address for address in read.cc] == ["ops@customer.example"]
    assert read.message_id == "CAFq3x1Z9@mail.customer.example"
    assert read.language_hint == "en"


def test_encoded_display_names_are_decoded_after_the_addresses_are_told_apart() -> None:
    read = read_mail(b"From: =?utf-8?q?Dupont=2C_Marie?= <Marie@Example.FR>\nTo: a@b.example, c@d.example\n\nx")

    assert (read.sender.address, read.sender.name) == ("marie@example.fr", "Dupont, Marie")
    assert [address.address for address in read.to] == ["a@b.example", "c@d.example"]
    assert mail("rfc2047_latin1_qp.eml").sender.name == "André Guérin"


def test_message_ids_of_a_reply_are_read_without_brackets_in_order() -> None:
    read = mail("french_reply.eml")

    assert read.in_reply_to == ("0f2c4e1a9b7d4c3e8a6b5d4c3b2a1f0e.reply-7@support.example.com",)
    assert read.references == (
        "0f2c4e1a9b7d4c3e8a6b5d4c3b2a1f0e.open@support.example.com",
        "0f2c4e1a9b7d4c3e8a6b5d4c3b2a1f0e.reply-7@support.example.com",
    )


def test_a_malformed_or_missing_message_id_is_none() -> None:
    assert mail("malformed_message_id.eml").message_id is None
    assert mail("missing_content_type.eml").message_id is None


# Files.


def test_file_names_lose_their_path_and_their_bidi_overrides() -> None:
    assert [file.name for file in mail("path_traversal_name.eml").files] == ["passwd"]
    assert [file.name for file in mail("right_to_left_name.eml").files] == ["invoicegpj.exe"]


def test_a_file_is_typed_by_its_bytes_not_its_name_or_declared_type() -> None:
    (file,) = mail("png_named_pdf.eml").files

    assert (file.name, file.media_type, file.data) == ("invoice.pdf", "image/png", PNG)


def test_an_enclosed_message_is_a_file_named_after_its_subject() -> None:
    (file,) = mail("message_rfc822_attached.eml").files

    assert file.name == "Original invoice 2025-02.eml"
    assert b"Subject: Original invoice 2025/02" in file.data
    assert b"Your domain renewal invoice." in file.data


def test_named_inline_images_of_html_mail_are_files_and_unnamed_ones_are_not() -> None:
    assert [(f.name, f.media_type) for f in mail("related_inline_images.eml").files] == [
        ("screenshot.png", "image/png")
    ]


def test_an_attachment_after_a_missing_closing_boundary_is_kept() -> None:
    (file,) = mail("missing_closing_boundary.eml").files

    assert (file.name, file.data.strip()) == ("error.log", b"PHP Fatal error: Allowed memory size exhausted")


def test_an_rfc_2047_encoded_file_name_is_decoded() -> None:
    raw = (
        b"From: a@b.example\nContent-Type: multipart/mixed; boundary=M\n\n--M\n\nSee file.\n--M\n"
        b'Content-Disposition: attachment; filename="=?utf-8?b?ZmFjdHVyZSDDqXTDqS5wZGY=?="\n\n%PDF-1.4\n--M--\n'
    )

    (file,) = read_mail(raw).files

    assert (file.name, file.media_type) == ("facture été.pdf", "application/pdf")


# Quarantine of what is built here, too big for a file.


def multipart(parts: list[bytes], *, boundary: bytes = b"B") -> bytes:
    delimited = b"".join(b"--" + boundary + b"\r\n" + part + b"\r\n" for part in parts)
    head = b"From: a@b.example\r\nContent-Type: multipart/mixed; boundary=" + boundary + b"\r\n\r\n"
    return head + delimited + b"--" + boundary + b"--\r\n"


def test_an_attachment_over_the_limit_quarantines_the_message_naming_its_size() -> None:
    data = random.Random(7).randbytes(30 * 1024 * 1024)
    attachment = b"Content-Disposition: attachment; filename=dump.sql\r\nContent-Transfer-Encoding: base64\r\n\r\n"

    reason = unreadable_reason(multipart([b"\r\nHere.", attachment + base64.encodebytes(data)]))

    assert reason == "an attachment of 31457280 bytes is over the limit of 20971520"


def test_more_files_than_a_post_holds_quarantine_the_message() -> None:
    named = [b"Content-Disposition: attachment; filename=f%d.txt\r\n\r\nx" % i for i in range(11)]

    assert "11 attachments" in unreadable_reason(multipart(named))


def test_parts_nested_5000_deep_quarantine_the_message_in_no_time() -> None:
    levels = b"".join(
        b"--b%d\r\nContent-Type: multipart/mixed; boundary=b%d\r\n\r\n" % (level, level + 1) for level in range(5000)
    )
    raw = b"From: a@b.example\r\nContent-Type: multipart/mixed; boundary=b0\r\n\r\n" + levels
    started = time.monotonic()

    reason = unreadable_reason(raw)

    assert "deeper" in reason
    assert time.monotonic() - started < 1.0


def test_enclosed_messages_nested_5000_deep_quarantine_the_message() -> None:
    raw = b"From: a@b.example\r\nContent-Type: message/rfc822\r\n\r\n" * 5000

    assert "deeper" in unreadable_reason(raw)


def test_nesting_within_the_limit_is_read() -> None:
    levels = b"".join(
        b"--b%d\r\nContent-Type: multipart/mixed; boundary=b%d\r\n\r\n" % (level, level + 1) for level in range(19)
    )
    raw = (
        b"From: a@b.example\r\nContent-Type: multipart/mixed; boundary=b0\r\n\r\n" + levels + b"--b19\r\n\r\nDeep.\r\n"
    )

    assert read_mail(raw).text == "Deep."


def test_more_parts_than_the_limit_quarantine_the_message() -> None:
    assert "parts" in unreadable_reason(multipart([b"\r\npart %d" % i for i in range(250)]))
    assert len(read_mail(multipart([b"\r\npart %d" % i for i in range(200)])).text.split("\n\n")) == 200


def test_an_endless_header_quarantines_the_message() -> None:
    raw = b"From: a@b.example\r\nSubject: " + b"x" * 300 * 1024 + b"\r\n\r\nbody"

    assert "header block" in unreadable_reason(raw)


@pytest.mark.parametrize(
    ("raw", "word"),
    [
        (b"", "empty"),
        (b" \r\n\r\n", "empty"),
        (b"Just some words, no header.\r\n", "header"),
        (b"\r\nFrom: a@b.example\r\n\r\nbody", "header"),
    ],
)
def test_empty_input_or_input_without_a_header_block_is_unreadable(raw: bytes, word: str) -> None:
    assert word in unreadable_reason(raw)


# Screening beyond the corpus.


def test_the_null_sender_of_the_envelope_screens_a_message_as_a_delivery_report() -> None:
    raw = corpus("plain_text.eml")

    assert screened(raw, return_path="") is Screened.DELIVERY_REPORT
    assert screened(raw, return_path="bounce@customer.example") is None


def test_the_envelope_return_path_when_known_prevails_over_the_header() -> None:
    assert screened(corpus("null_return_path.eml"), return_path="robot@example.net") is None


def test_own_address_is_checked_before_the_rest() -> None:
    raw = b"From: noreply@example.com\nAuto-Submitted: auto-generated\nPrecedence: bulk\n\nx"

    assert screened(raw) is Screened.OWN_ADDRESS


def test_a_hostdesk_loop_header_naming_an_own_address_screens_the_message() -> None:
    assert screened(b"From: a@b.example\nX-HostDesk-Loop: <Support@Example.com>\n\nx") is Screened.OWN_ADDRESS
    assert screened(b"From: a@b.example\nX-Loop: other@elsewhere.example\n\nx") is None


def test_list_unsubscribe_screens_a_message_as_bulk() -> None:
    assert screened(b"From: a@b.example\nList-Unsubscribe: <mailto:u@l.example>\n\nx") is Screened.BULK


# Threading hints.


@pytest.mark.parametrize(
    ("subject", "numbers"),
    [
        ("[#482913] Site down", (482913,)),
        ("Re: [HostDesk #482913] Site en panne", (482913,)),
        ("Ticket 482913", (482913,)),
        ("[Ticket #482913] and again ticket: 482913", (482913,)),
        ("Re: ticket n° 482913", (482913,)),
        ("demande #77 et Demande no. 78", (77, 78)),
        ("#12 then #7", (12, 7)),
        ("my VPS 1042 is down", ()),
        ("order 482913, invoice nr 5", ()),
        ("#1234567890123 is too long", ()),
        ("&#8217;quoted&#8217;", ()),
    ],
)
def test_the_ticket_numbers_a_subject_names(subject: str, numbers: tuple[int, ...]) -> None:
    assert ticket_numbers_in(subject) == numbers


@pytest.mark.parametrize(
    ("address", "number"),
    [
        ("support+t482913@example.com", 482913),
        ("Support+T482913@Example.COM", 482913),
        ("support@example.com", None),
        ("support+482913@example.com", None),
        ("support+t482913@other.example", None),
        ("sales+t482913@example.com", None),
        ("support+t48x@example.com", None),
    ],
)
def test_the_ticket_number_of_a_plus_tag(address: str, number: int | None) -> None:
    assert plus_ticket_number(address, "support@example.com") == number


def test_the_tickets_whose_thread_ids_a_reply_refers_to() -> None:
    ticket, other = uuid.uuid4(), uuid.uuid4()

    assert thread_ticket_ids([f"<ticket-{ticket}@Support.Example.com>", "<CAFq3x1Z9@mail.example>"]) == (ticket,)
    assert thread_ticket_ids([f"ticket-{other}@x", f"<ticket-{ticket}@y>", f"<ticket-{other}@z>"]) == (other, ticket)
    assert thread_ticket_ids([f"<ticket-{str(ticket)[:35]}@support.example.com>", f"<{ticket.hex}.x@y>"]) == ()


# Identity.


def test_the_same_message_relayed_and_fetched_otherwise_has_one_identity() -> None:
    raw = corpus("plain_text.eml")
    relayed = (
        b"Received: from relay.example.net by mx.example.com; Tue, 4 Feb 2025 08:00:00 +0000\r\n"
        b"Return-Path: <ada@customer.example>\r\nX-Spam-Score: 0.1\r\nAuthentication-Results: mx; spf=pass\r\n"
        + raw.replace(b"mx1.example.net (mx1", b"mx2.example.net (mx2")
    )
    fetched = b"From ada@customer.example Mon Feb  3 10:12:44 2025\n" + raw.replace(b"\r\n", b"\n") + b"\n\n"

    assert identity_of(relayed) == identity_of(raw) == identity_of(fetched) == read_mail(raw).identity


def test_two_messages_sharing_a_message_id_have_two_identities() -> None:
    raw = corpus("plain_text.eml")
    other = raw.replace(b"Could you have a look?", b"Could you reboot it?")

    assert read_mail(other).message_id == read_mail(raw).message_id
    assert identity_of(other) != identity_of(raw)


def test_a_trace_field_in_the_body_is_part_of_the_identity() -> None:
    raw = b"From: a@b.example\r\n\r\nReceived: this line is the body\r\n"

    assert identity_of(raw) != identity_of(b"From: a@b.example\r\n\r\n")


# Hostile bytes.


def mutations(seed: int, count: int) -> list[bytes]:
    """Random byte strings, and corpus messages with bytes flipped, cut, doubled or spliced in."""
    rng = random.Random(seed)
    messages = [path.read_bytes() for path in sorted(CORPUS.glob("*.eml"))]
    tokens = [b"\r\n", b"\n\n", b"--", b"=?utf-8?b?", b"?=", b"boundary=", b"Content-Type: multipart/mixed", b"\x00"]
    made: list[bytes] = [rng.randbytes(rng.randrange(0, 400)) for _ in range(count // 2)]
    while len(made) < count:
        data = bytearray(rng.choice(messages))
        for _ in range(rng.randrange(1, 8)):
            at = rng.randrange(0, len(data) + 1)
            action = rng.randrange(4)
            if action == 0:
                data[at : at + 1] = bytes([rng.randrange(256)])
            elif action == 1:
                del data[at : at + rng.randrange(1, 200)]
            elif action == 2:
                data[at:at] = data[at : at + rng.randrange(1, 200)]
            else:
                data[at:at] = rng.choice(tokens)
        made.append(bytes(data))
    return made


def test_random_bytes_and_mutated_messages_are_read_or_unreadable_and_screening_never_raises() -> None:
    read_count, reasons = 0, []
    fallback = mail("plain_text.eml")

    for raw in mutations(seed=20250203, count=5000):
        read: InboundMail | None = None
        try:
            read = read_mail(raw)
            read_count += 1
        except Unreadable as unreadable:
            reasons.append(unreadable.reason)
        screening(raw, read or fallback, own_addresses=OWN, return_path=None)

    assert read_count > 500  # both ways were taken
    assert len(reasons) > 500
    assert all(reasons)
