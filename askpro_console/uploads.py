"""Uploads are kept only up to the largest file any page accepts, never whole.

Django stores the whole body of a multipart upload (in memory, else in a temporary file) before
the view can look at it: a 10 GB POST would fill the disk before the import page could say the
file is too large. This handler, first in FILE_UPLOAD_HANDLERS, passes on the first
PHONE_IMPORT_MAX_BYTES + 1 bytes of each file and drops the rest as it arrives, so the page
still sees "one byte too many" and says the file is too large, with its usual message.
"""

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler


class BoundedUploadHandler(FileUploadHandler):
    def new_file(self, *args, **kwargs):
        super().new_file(*args, **kwargs)
        self.received = 0

    def receive_data_chunk(self, raw_data, start):
        room = settings.PHONE_IMPORT_MAX_BYTES + 1 - self.received
        self.received += len(raw_data)
        # None: the later handlers (memory, temporary file) do not get this chunk.
        return raw_data[: max(room, 0)] or None

    def file_complete(self, file_size):
        return None  # the next handler makes the file of what was passed on
