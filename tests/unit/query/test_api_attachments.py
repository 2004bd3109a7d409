"""Files through the query API: each timeline entry of a post lists its files for whoever sees the post, and a
download answers the bytes, saved and never rendered, only to a caller who may see the ticket and that post; to
anyone else, as to an unknown id, the same 404."""

from __future__ import annotations

import logging
import time
from urllib.parse import unquote

import httpx
import pytest
from hostdesk_contracts.attachments import Attachment
from hostdesk_contracts.base import Actor, Role, Status, Visibility
from hostdesk_contracts.problems import PROBLEM_MEDIA_TYPE
from hostdesk_contracts.runtime.rate_limit import RateLimiter
from hostdesk_devtools.stories import TicketStory, account

from .files import attached, attachment_of
from .serving import TENANT, Api

PNG = b"\x89PNG\r\n\x1a\n a screenshot"
CONFIG = b"pm.max_children = 40\n"
DIAGNOSIS = b"The customer's plugin leaks workers.\n"


class Conversation:
    """A ticket opened with a screenshot, answered with a file in public, and with another in an internal note;
    every file's bytes stored."""

    def __init__(self, api: Api) -> None:
        self.api = api
        self.customer, self.agent = account(TENANT), account(TENANT, Role.AGENT)
        self.story = TicketStory(self.customer)
        self.screenshot = attachment_of(PNG, name="502 error.png")
        self.config = attachment_of(CONFIG, name="www.conf", media_type="text/plain")
        self.diagnosis = attachment_of(DIAGNOSIS, name="diagnosis.txt", media_type="text/plain")

    async def told(self) -> Conversation:
        await self.api.apply(
            attached(self.story.opened(), self.screenshot),
            attached(self.story.reply(self.agent, "New pool attached."), self.config),
            self.story.status_change(self.agent, Status.ANSWERED),
            attached(self.story.reply(self.agent, "Root cause", visibility=Visibility.INTERNAL), self.diagnosis),
        )
        for data in (PNG, CONFIG, DIAGNOSIS):
            await self.api.blobs.put(TENANT, data)
        return self

    async def download(self, caller: Actor, attachment_id: str) -> httpx.Response:
        return await self.api.get(f"/v1/tickets/{self.story.ticket_id}/attachments/{attachment_id}", caller)


def shown(attachment: Attachment) -> dict[str, object]:
    return {"id": attachment.id, "name": attachment.name, "media_type": attachment.media_type, "size": attachment.size}


async def timeline(api: Api, conversation: Conversation, caller: Actor) -> list[tuple[str, list[object]]]:
    response = await api.get(f"/v1/tickets/{conversation.story.ticket_id}", caller)
    assert response.status_code == 200, response.text
    return [(entry["kind"], entry["attachments"]) for entry in response.json()["timeline"]]


async def test_the_requester_sees_the_files_of_every_post_but_internal_notes_and_never_a_digest(api: Api) -> None:
    talk = await Conversation(api).told()

    entries = await timeline(api, talk, talk.customer)

    assert entries == [
        ("opened", [shown(talk.screenshot)]),
        ("post", [shown(talk.config)]),
        ("status_changed", []),
    ]


async def test_the_handling_side_sees_the_files_of_internal_notes_too(api: Api) -> None:
    talk = await Conversation(api).told()

    entries = await timeline(api, talk, talk.agent)

    assert entries == [
        ("opened", [shown(talk.screenshot)]),
        ("post", [shown(talk.config)]),
        ("status_changed", []),
        ("post", [shown(talk.diagnosis)]),
    ]


@pytest.mark.parametrize(
    ("caller", "post", "status"),
    [
        ("requester", "public", 200),
        ("requester", "internal", 404),
        ("handler", "public", 200),
        ("handler", "internal", 200),
        ("outsider", "public", 404),
        ("outsider", "internal", 404),
    ],
)
async def test_a_file_is_downloaded_only_by_a_caller_who_sees_its_post(
    api: Api, caller: str, post: str, status: int
) -> None:
    talk = await Conversation(api).told()
    callers = {"requester": talk.customer, "handler": talk.agent, "outsider": account(TENANT)}
    file, data = (talk.config, CONFIG) if post == "public" else (talk.diagnosis, DIAGNOSIS)

    response = await talk.download(callers[caller], file.id)

    assert response.status_code == status
    if status == 200:
        assert response.content == data
    else:
        assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE


@pytest.mark.parametrize("attachment_id", ["unknown", "malformed", "too long", "of-another-ticket"])
async def test_an_unknown_or_malformed_id_answers_the_same_404_as_a_file_one_may_not_see(
    api: Api, attachment_id: str
) -> None:
    talk = await Conversation(api).told()
    elsewhere = TicketStory(talk.customer)
    other_file = attachment_of(b"elsewhere")
    await api.apply(attached(elsewhere.opened(), other_file))
    ids = {
        "unknown": f"att_{'0' * 32}",
        "malformed": f"att_{'G' * 32}",
        "too long": f"{talk.diagnosis.id}0",
        "of-another-ticket": other_file.id,
    }
    hidden = await talk.download(talk.customer, talk.diagnosis.id)

    response = await talk.download(talk.customer, ids[attachment_id])

    assert (response.status_code, response.headers["content-type"]) == (404, PROBLEM_MEDIA_TYPE)
    assert {k: v for k, v in response.json().items() if k != "instance"} == {
        k: v for k, v in hidden.json().items() if k != "instance"
    }


async def test_bytes_missing_from_the_store_answer_404_and_are_logged(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    talk = await Conversation(api).told()
    api.blobs.files.clear()

    with caplog.at_level(logging.WARNING, logger="hostdesk_query"):
        response = await talk.download(talk.customer, talk.screenshot.id)

    assert (response.status_code, response.headers["content-type"]) == (404, PROBLEM_MEDIA_TYPE)
    assert any(talk.screenshot.id in record.getMessage() for record in caplog.records)


async def test_an_unreachable_store_answers_503_with_retry_after(api: Api) -> None:
    talk = await Conversation(api).told()
    api.blobs.reachable = False

    response = await talk.download(talk.customer, talk.screenshot.id)

    assert (response.status_code, response.headers["content-type"]) == (503, PROBLEM_MEDIA_TYPE)
    assert int(response.headers["retry-after"]) >= 1


async def test_a_download_is_saved_under_its_name_never_sniffed_run_or_cached(api: Api) -> None:
    talk = await Conversation(api).told()

    response = await talk.download(talk.customer, talk.screenshot.id)

    assert response.status_code == 200
    assert response.content == PNG
    assert response.headers["content-type"] == "image/png"
    assert response.headers["content-length"] == str(len(PNG))
    assert response.headers["content-disposition"] == (
        "attachment; filename=\"502 error.png\"; filename*=UTF-8''502%20error.png"
    )
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["content-security-policy"] == "sandbox; default-src 'none'"
    assert response.headers["cache-control"] == "private, max-age=0"


async def test_a_text_file_is_served_as_the_type_sniffed_without_a_charset_of_the_servers_choosing(
    api: Api,
) -> None:
    talk = await Conversation(api).told()

    response = await talk.download(talk.customer, talk.config.id)

    assert response.headers["content-type"] == "text/plain"


@pytest.mark.parametrize(
    "media_type",
    [
        "text/html",
        "application/xhtml+xml",
        "image/svg+xml",
        "text/javascript",
        "application/javascript",
        "text/xml",
        "application/xml",
        "application/rss+xml",
    ],
)
async def test_a_type_a_browser_would_render_or_run_is_served_as_octet_stream(api: Api, media_type: str) -> None:
    customer = account(TENANT)
    story = TicketStory(customer)
    page = attachment_of(b"<script>alert(1)</script>", name="page.html", media_type=media_type)
    await api.apply(attached(story.opened(), page))
    await api.blobs.put(TENANT, b"<script>alert(1)</script>")

    response = await api.get(f"/v1/tickets/{story.ticket_id}/attachments/{page.id}", customer)

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/octet-stream"
    assert response.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize(
    ("name", "fallback"),
    [
        ('invoice"; filename="evil.exe', "invoice_; filename=_evil.exe"),
        ("report\r\nSet-Cookie: session=stolen.txt", "report__Set-Cookie: session=stolen.txt"),
        ("back\\slash 100%.txt", "back_slash 100_.txt"),
        ("Счёт №5 café.pdf", "____ No5 cafe.pdf"),
        ("日本語", "___"),
    ],
)
async def test_a_hostile_name_cannot_break_the_header_and_is_offered_as_it_is(
    api: Api, name: str, fallback: str
) -> None:
    customer = account(TENANT)
    story = TicketStory(customer)
    file = attachment_of(b"data", name=name, media_type="application/pdf")
    await api.apply(attached(story.opened(), file))
    await api.blobs.put(TENANT, b"data")

    response = await api.get(f"/v1/tickets/{story.ticket_id}/attachments/{file.id}", customer)

    disposition = response.headers["content-disposition"]
    quoted, encoded = disposition.removeprefix("attachment; ").split("; filename*=UTF-8''")
    assert quoted == f'filename="{fallback}"'
    assert unquote(encoded, encoding="utf-8", errors="strict") == name
    assert all(0x20 <= ord(ch) < 0x7F for ch in disposition)
    assert [key for key, _ in response.headers.raw].count(b"set-cookie") == 0


async def test_downloads_count_against_the_callers_read_limit(api: Api) -> None:
    talk = await Conversation(api).told()
    api.app.state.rate_limiter = RateLimiter(rate=1 / 3600, burst=2, clock=time.monotonic)

    statuses = [(await talk.download(talk.customer, talk.screenshot.id)).status_code for _ in range(3)]

    assert statuses == [200, 200, 429]
