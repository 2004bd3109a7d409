"""A post's files are projected with their post: the opening post, a reply or an internal note, and every post
merged from another ticket, each keeping its own; they are written as rows and read back unchanged."""

from hostdesk_contracts.base import Role, Visibility
from hostdesk_contracts.events import AnyEvent
from hostdesk_devtools.stories import TicketStory, account
from hostdesk_query.adapters.rows import ENTRY_FIELDS, entry_of, entry_rows_of
from hostdesk_query.domain.model import EntryKind
from hostdesk_query.domain.projection import change_of, plan_batch

from .files import attached, attachment_of, merged_with_files
from .test_rows import as_read

TENANT = "acme"
AGENT = account(TENANT, Role.AGENT)


def test_the_opening_entry_holds_the_files_of_the_first_post() -> None:
    screenshot, log = attachment_of(b"png"), attachment_of(b"log", name="php.log", media_type="text/plain")
    opened = attached(TicketStory(account(TENANT)).opened(), screenshot, log)

    (entry,) = plan_batch({}, [change_of(opened)]).entries

    assert (entry.kind, entry.attachments) == (EntryKind.OPENED, (screenshot, log))


def test_a_reply_and_an_internal_note_each_hold_their_own_files() -> None:
    story = TicketStory(account(TENANT))
    config, diagnosis = attachment_of(b"conf", name="www.conf"), attachment_of(b"txt", name="diagnosis.txt")
    events: list[AnyEvent] = [
        story.opened(),
        attached(story.reply(AGENT), config),
        attached(story.reply(AGENT, "Root cause", visibility=Visibility.INTERNAL), diagnosis),
    ]

    _, reply, note = plan_batch({}, [change_of(event) for event in events]).entries

    assert (reply.kind, reply.visibility, reply.attachments) == (EntryKind.POST, Visibility.PUBLIC, (config,))
    assert (note.visibility, note.attachments) == (Visibility.INTERNAL, (diagnosis,))


def test_posts_merged_from_another_ticket_keep_their_own_files() -> None:
    customer = account(TENANT)
    target, source = TicketStory(customer), TicketStory(customer)
    dump, note_file = attachment_of(b"sql", name="db.sql"), attachment_of(b"n", name="n.txt")
    target_opened = target.opened()
    source_opened, source_note = source.opened(), source.reply(AGENT, "Inside", visibility=Visibility.INTERNAL)
    merge = merged_with_files(
        target.absorb(AGENT, source), {source_opened.post_id: (dump,), source_note.post_id: (note_file,)}
    )

    entries = plan_batch({}, [change_of(target_opened), change_of(merge)]).entries

    merged = [(entry.kind, entry.visibility, entry.attachments) for entry in entries[1:]]
    assert merged == [
        (EntryKind.MERGED_POST, Visibility.PUBLIC, (dump,)),
        (EntryKind.MERGED_POST, Visibility.INTERNAL, (note_file,)),
    ]


def test_entries_without_files_hold_none() -> None:
    story = TicketStory(account(TENANT))

    entries = plan_batch({}, [change_of(story.opened()), change_of(story.close(AGENT))]).entries

    assert [entry.attachments for entry in entries] == [(), ()]


def test_entries_with_and_without_files_read_back_from_their_rows_as_the_same_records() -> None:
    story = TicketStory(account(TENANT))
    events: list[AnyEvent] = [
        attached(story.opened(), attachment_of(b"a"), attachment_of(b"b", name='we"ird\r\nname ✓.txt')),
        story.reply(AGENT),
    ]
    entries = plan_batch({}, [change_of(event) for event in events]).entries

    rows = entry_rows_of(entries)

    assert [entry_of(as_read(ENTRY_FIELDS, row)) for row in rows] == list(entries)
    files_column = ENTRY_FIELDS.index("attachments")
    assert isinstance(rows[0][files_column], str)  # JSON text, which asyncpg writes as jsonb
    assert rows[1][files_column] is None
