"""A file part of a multipart request: what PTB sends for ``InputFile`` parameters."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Upload:
    """One uploaded file: the part's file name, content type and bytes."""

    filename: str
    content_type: str
    data: bytes
