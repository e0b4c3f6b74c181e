"""An upload handler that seals a file as it arrives: no plaintext temporary file, ever."""

from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler, StopFutureHandlers, StopUpload

from .services import TooLarge, Writer


class SealedUpload(UploadedFile):
    def __init__(self, writer) -> None:
        super().__init__(file=None, name=str(writer.attachment.pk), size=writer.size)
        self.writer = writer


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
        if self.writer and not self.writer.attachment.complete:
            self.writer.abandon()
