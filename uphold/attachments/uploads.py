"""An upload handler that seals a file as it arrives: no plaintext temporary file, ever."""

import logging

from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler, StopFutureHandlers, StopUpload

from .services import TooLarge, Writer

logger = logging.getLogger("uphold.attachments")


class SealedUpload(UploadedFile):
    def __init__(self, writer) -> None:
        super().__init__(file=None, name=str(writer.attachment.pk), size=writer.size)
        self.writer = writer

    def close(self) -> None:
        # Nothing is open: the chunks are already sealed in the database. Django closes every
        # uploaded file when parsing fails and at the end of the request.
        pass


class EncryptingUploadHandler(FileUploadHandler):
    def __init__(self, request, process, scope: str, action: str = "documents.upload") -> None:
        super().__init__(request)
        self.process, self.scope, self.action = process, scope, action
        self.writer: Writer | None = None
        self.too_large = False

    def new_file(self, field_name, file_name, content_type, *args, **kwargs) -> None:
        super().new_file(field_name, file_name, content_type, *args, **kwargs)
        if self.writer is not None:  # one file per upload
            raise StopUpload(connection_reset=False)
        self.writer = Writer(
            self.request.user, self.process, self.scope, file_name or "file", self.action
        )
        raise StopFutureHandlers

    def receive_data_chunk(self, raw_data: bytes, start: int):
        try:
            self.writer.write(raw_data)
        except TooLarge:
            self.too_large = True
            self.writer.abandon()
            raise StopUpload(connection_reset=False) from None
        return None

    def file_complete(self, file_size: int):
        # Finished by the view only once the CSRF check has passed.
        return SealedUpload(self.writer)

    def upload_interrupted(self) -> None:
        self.discard()

    def discard(self) -> None:
        """Removes the upload unless it was finished. Views call it on every way out, so a
        refused or failed upload leaves no row behind; what even this cannot remove (the
        database gone away) the worker removes after a day."""
        if self.writer is None:
            return
        try:
            self.writer.abandon()
        except Exception:
            logger.exception("could not remove an unfinished upload; the worker will")
