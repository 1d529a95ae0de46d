"""The emulator's file storage: uploads from the bot and from users, addressable by file_id.

Telegram hands out a ``file_id`` for every stored file, lets bots resend by ``file_id``, and serves
the bytes under ``/file/bot<token>/<file_path>`` after ``getFile``. The chat page also needs the
bytes (to show a photo or offer the .ics the bot sent), so every file lives here in memory.
"""

from __future__ import annotations

import mimetypes
import struct
from dataclasses import dataclass
from typing import Any, Literal

from bot.sandbox.upload import Upload

JsonDict = dict[str, Any]
FileKind = Literal["document", "photo", "voice", "sticker", "audio", "video", "animation"]

_PREFIX = {
    "document": "BQAC",
    "photo": "AgAC",
    "voice": "AwAC",
    "sticker": "CAAC",
    "audio": "CQAC",
    "video": "BAAC",
    "animation": "CgAC",
}
_DEFAULT_MIME = {"photo": "image/jpeg", "voice": "audio/ogg", "sticker": "image/webp"}


@dataclass
class StoredFile:
    """One file: its ids, where getFile points, its bytes and what it was sent as."""

    file_id: str
    file_unique_id: str
    kind: FileKind
    file_name: str
    mime_type: str
    data: bytes
    file_path: str
    url: str | None = None  # set when the bot sent an HTTP URL instead of bytes

    @property
    def size(self) -> int:
        return len(self.data)

    def file_api(self) -> JsonDict:
        """The Bot API ``File`` object answered by getFile."""
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": self.size,
            "file_path": self.file_path,
        }

    def media_api(self, **extra: Any) -> JsonDict | list[JsonDict]:
        """The object a Message carries for this file (``document``, ``photo`` sizes, …)."""
        base: JsonDict = {"file_id": self.file_id, "file_unique_id": self.file_unique_id}
        if self.size:
            base["file_size"] = self.size
        if self.kind == "photo":
            width, height = image_size(self.data)
            return [{**base, "width": width, "height": height}]
        if self.kind == "sticker":
            width, height = image_size(self.data)
            return {
                **base,
                "type": "regular",
                "width": width or 512,
                "height": height or 512,
                "is_animated": False,
                "is_video": False,
                **extra,
            }
        if self.kind == "voice":
            return {**base, "duration": int(extra.get("duration", 0)), "mime_type": self.mime_type}
        if self.kind in ("audio", "video", "animation"):
            return {**base, "duration": int(extra.get("duration", 0)), "mime_type": self.mime_type}
        return {**base, "file_name": self.file_name, "mime_type": self.mime_type}


class FileStore:
    """All files known to the emulator, by file_id and by file_path."""

    def __init__(self) -> None:
        self._by_id: dict[str, StoredFile] = {}
        self._by_path: dict[str, StoredFile] = {}
        self._counter = 0

    def add(self, kind: FileKind, upload: Upload) -> StoredFile:
        """Store uploaded bytes and give them fresh ids, as Telegram does for each upload."""
        self._counter += 1
        number = self._counter
        mime = upload.content_type or ""
        if not mime or mime == "application/octet-stream":
            guessed = mimetypes.guess_type(upload.filename)[0]
            mime = guessed or _DEFAULT_MIME.get(kind, "application/octet-stream")
        extension = _extension(upload.filename, mime)
        stored = StoredFile(
            file_id=f"{_PREFIX[kind]}sandbox{number:06d}",
            file_unique_id=f"AQADsandbox{number:06d}",
            kind=kind,
            file_name=upload.filename or f"file_{number}{extension}",
            mime_type=mime,
            data=upload.data,
            file_path=f"{kind}s/file_{number}{extension}",
        )
        self._by_id[stored.file_id] = stored
        self._by_path[stored.file_path] = stored
        return stored

    def add_url(self, kind: FileKind, url: str) -> StoredFile:
        """A file the bot named by HTTP URL: the emulator has no internet, so it keeps the URL."""
        name = url.rsplit("/", 1)[-1] or "file"
        stored = self.add(kind, Upload(name, "", b""))
        stored.url = url
        return stored

    def get(self, file_id: str) -> StoredFile | None:
        return self._by_id.get(file_id)

    def by_path(self, file_path: str) -> StoredFile | None:
        return self._by_path.get(file_path)


def _extension(filename: str, mime: str) -> str:
    if "." in filename:
        return "." + filename.rsplit(".", 1)[-1]
    return mimetypes.guess_extension(mime) or ""


def image_size(data: bytes) -> tuple[int, int]:
    """Width and height of a PNG or JPEG (0, 0 when unknown): PhotoSize requires them."""
    if data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return int(width), int(height)
    if data.startswith(b"\xff\xd8"):
        index = 2
        while index + 9 < len(data):
            if data[index] != 0xFF:
                index += 1
                continue
            marker = data[index + 1]
            length = int.from_bytes(data[index + 2 : index + 4], "big")
            if marker in (0xC0, 0xC1, 0xC2):
                height = int.from_bytes(data[index + 5 : index + 7], "big")
                width = int.from_bytes(data[index + 7 : index + 9], "big")
                return width, height
            index += 2 + length
    return 0, 0
