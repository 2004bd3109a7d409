"""Uploading files to attach: ``POST /v1/attachments`` (``multipart/form-data``, one or more ``files`` parts).

Each file is stored by its content and answered with its record: the id to name in ``attachments`` of a new
ticket or a post within a day, the safe name it will be shown under, the type sniffed from its bytes, its size and
digest. A file over the limit of one attachment, or a request over the upload limit, is 413 naming the limit, and
nothing of it is kept; more files than a post may hold is 422.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Request, UploadFile
from hostdesk_contracts.attachments import Attachment, safe_name
from hostdesk_contracts.runtime.blobs import BlobStore
from hostdesk_contracts.runtime.problems import PayloadTooLarge
from pydantic import BaseModel

from hostdesk_intake.adapters.uploads import Uploads
from hostdesk_intake.api.answers import PROBLEMS
from hostdesk_intake.api.deps import CallerDep
from hostdesk_intake.api.problems import InvalidField
from hostdesk_intake.domain.attachments import UploadBounds
from hostdesk_intake.domain.commands import Envelope
from hostdesk_intake.service_layer.attachments import File as UploadedFile
from hostdesk_intake.service_layer.attachments import UnknownUpload, attached, upload

UPLOADS_PATH = "/v1/attachments"
READ_CHUNK = 1024 * 1024

router = APIRouter(prefix="/v1")


class Uploaded(BaseModel):
    attachments: list[Attachment]


@router.post(
    "/attachments",
    status_code=201,
    response_model=Uploaded,
    responses=PROBLEMS | {413: {"description": "A file or the request is over its limit, named in the problem."}},
    tags=["attachments"],
)
async def upload_files(
    request: Request,
    caller: CallerDep,
    files: Annotated[list[UploadFile], File(description="The files, one part each.")],
) -> Uploaded:
    """Upload files to attach to a new ticket or a post: name their ids in its ``attachments`` within a day."""
    bounds: UploadBounds = request.app.state.runtime.upload_bounds
    if len(files) > bounds.max_files:
        raise InvalidField("files", f"at most {bounds.max_files} files at once, as many as a post may hold")
    read = [UploadedFile(name=each.filename, data=await _within(each, bounds.max_file_bytes)) for each in files]
    blobs: BlobStore = request.app.state.blobs
    uploads: Uploads = request.app.state.uploads
    return Uploaded(attachments=await upload(read, caller=caller, blobs=blobs, uploads=uploads))


async def _within(file: UploadFile, max_bytes: int) -> bytes:
    """The file's bytes, or a 413 as soon as they pass ``max_bytes``."""
    chunks: list[bytes] = []
    size = 0
    while chunk := await file.read(READ_CHUNK):
        size += len(chunk)
        if size > max_bytes:
            raise PayloadTooLarge(
                f"The file {safe_name(file.filename)!r} is larger than {max_bytes} bytes, the limit of one attachment.",
                limit_bytes=max_bytes,
            )
        chunks.append(chunk)
    return b"".join(chunks)


async def attached_files(
    upload_ids: tuple[str, ...], *, envelope: Envelope, uploads: Uploads
) -> tuple[Attachment, ...]:
    """The attachments of the request's post, from the caller's uploads it names; a 422 naming the first upload
    that is none of the caller's."""
    if not upload_ids:
        return ()
    try:
        return await attached(upload_ids, caller=envelope.actor, command_id=envelope.command_id, uploads=uploads)
    except UnknownUpload as unknown:
        raise InvalidField(
            f"attachments.{unknown.index}",
            "no such upload of yours: upload files first (POST /v1/attachments); an upload is kept a day",
        ) from unknown
