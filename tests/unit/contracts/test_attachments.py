"""What a file is called once attached: its last path segment, nothing that hides or reorders characters, a length
that keeps its extension."""

from __future__ import annotations

import pytest
from hostdesk_contracts.attachments import ATTACHMENT_NAME_MAX_CHARS, Attachment, safe_name
from pydantic import ValidationError


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("invoice.pdf", "invoice.pdf"),
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\ada\\Desktop\\error log.txt", "error log.txt"),
        ("photo\u202egpj.exe", "photogpj.exe"),  # a right-to-left override would show "photoexe.jpg"
        ("a\u2066b\u2069c\u200b.png", "abc.png"),
        ("new\nline\ttab.txt", "new line tab.txt"),
        ("nul\x00byte\x7f.log", "nulbyte.log"),
        ("  ..hidden.. ", "hidden"),
        ("Cafe\u0301.txt", "Café.txt"),  # NFC
        ("CON.txt", "_CON.txt"),
        ("", "attachment"),
        (None, "attachment"),
        ("/", "attachment"),
        ("\u202e", "attachment"),
    ],
)
def test_a_name_is_made_safe(given: str | None, kept: str) -> None:
    assert safe_name(given) == kept


def test_a_long_name_keeps_its_extension() -> None:
    name = safe_name("x" * 500 + ".tar.gz")

    assert len(name) == ATTACHMENT_NAME_MAX_CHARS
    assert name.endswith("x.gz")


def test_a_long_name_without_an_extension_is_cut() -> None:
    assert safe_name("y" * 500) == "y" * ATTACHMENT_NAME_MAX_CHARS


def test_an_attachment_names_its_content_by_digest_and_its_type_by_pattern() -> None:
    good = {"id": "att_" + "0" * 32, "name": "a.png", "media_type": "image/png", "size": 3, "digest": "a" * 64}
    Attachment.model_validate(good)

    for field, bad in [("id", "att_x"), ("media_type", "image"), ("digest", "A" * 64), ("size", -1)]:
        with pytest.raises(ValidationError):
            Attachment.model_validate(good | {field: bad})
