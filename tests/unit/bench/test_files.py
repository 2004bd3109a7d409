"""The attachment figures of ``make bench``."""

from __future__ import annotations

from hostdesk_devtools.bench.files import FILE_BYTES, FileTransfers, Transfer, random_files
from hostdesk_devtools.bench.report import rows

from tests.unit.bench.test_report import results, row


def test_files_are_distinct_so_none_is_stored_once_for_two() -> None:
    files = random_files(4)
    assert len(set(files)) == 4
    assert {len(each) for each in files} == {FILE_BYTES}


def test_rates_are_mebibytes_a_second_beside_the_object_stores() -> None:
    measured = results()
    measured.files = FileTransfers(
        raw=Transfer(size=64 * 2**20, up=0.5, down=1.0),
        product=Transfer(size=64 * 2**20, up=2.0, down=2.0),
        files=64,
        concurrency=4,
    )
    table = rows(measured)
    assert row(table, "Attachments uploaded").value == "32.0 MB/s"
    assert row(table, "Attachments uploaded").ratio == "25.0%"  # beside 128 MB/s put straight
    assert row(table, "Attachments downloaded").ratio == "50.0%"  # beside 64 MB/s read straight
