"""The message an outbox row carries: already rendered in the patron's language.

A notice is rendered when it is decided (the cycle knows the patron's language, the items and
the policy's wording at that moment) and stored as JSON, so that the dispatcher is generic: it
sends whatever the row says, for every kind of notice, without knowing any of them.
"""

from __future__ import annotations

import base64
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

TEXT_LIMIT = 4096  # characters, Bot API sendMessage.text
CAPTION_LIMIT = 1024  # characters, Bot API sendDocument.caption
CALLBACK_LIMIT = 64  # bytes, Bot API InlineKeyboardButton.callback_data


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Button(_Frozen):
    """An inline keyboard button: a callback (``renew:12``) or a link."""

    text: str = Field(min_length=1)
    callback_data: str | None = None
    url: str | None = None

    @model_validator(mode="after")
    def _one_action(self) -> Button:
        if (self.callback_data is None) == (self.url is None):
            raise ValueError("a button has either callback_data or url")
        if self.callback_data is not None and not (
            1 <= len(self.callback_data.encode()) <= CALLBACK_LIMIT
        ):
            raise ValueError("callback_data must be 1-64 bytes")
        return self


class Attachment(_Frozen):
    """A small file sent with the message (an .ics for an appointment)."""

    filename: str = Field(min_length=1)
    mime_type: str = "application/octet-stream"
    content_b64: str

    @classmethod
    def of(cls, filename: str, content: bytes, mime_type: str) -> Attachment:
        return cls(
            filename=filename, mime_type=mime_type, content_b64=base64.b64encode(content).decode()
        )

    def content(self) -> bytes:
        return base64.b64decode(self.content_b64)


class OutgoingMessage(_Frozen):
    """What the dispatcher sends: HTML text, optional buttons, optional file.

    With a document, the text is sent first as a message (it may be long) and the file after it.
    ``thread_id`` addresses a forum topic (staff group notices).
    """

    text: str = Field(min_length=1, max_length=TEXT_LIMIT)
    buttons: tuple[tuple[Button, ...], ...] = ()
    document: Attachment | None = None
    thread_id: int | None = None

    def to_payload(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_none=True)

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> OutgoingMessage:
        return cls.model_validate(payload)
