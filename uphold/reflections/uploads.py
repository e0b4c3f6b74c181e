"""An upload handler for a reflection sent as a text file: kept in memory, never written to
disk in clear, and only up to the limit (what arrives beyond it is counted and dropped)."""

from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler, StopFutureHandlers


class TextFile(UploadedFile):
    def __init__(self, name: str, data: bytes, size: int) -> None:
        super().__init__(file=None, name=name, size=size)
        self.data = data

    def close(self) -> None:
        pass


class TextUpload(FileUploadHandler):
    def __init__(self, request, limit: int) -> None:
        super().__init__(request)
        self.limit = limit
        self.buffer = bytearray()
        self.received = 0

    def new_file(self, field_name, file_name, content_type, *args, **kwargs) -> None:
        super().new_file(field_name, file_name, content_type, *args, **kwargs)
        self.buffer, self.received = bytearray(), 0
        raise StopFutureHandlers

    def receive_data_chunk(self, raw_data: bytes, start: int):
        self.received += len(raw_data)
        if self.received <= self.limit:
            self.buffer += raw_data
        else:
            self.buffer.clear()  # too large: only its size is kept, to say so
        return None

    def file_complete(self, file_size: int):
        data = bytes(self.buffer) if self.received <= self.limit else b""
        return TextFile(self.file_name or "file", data, self.received)
