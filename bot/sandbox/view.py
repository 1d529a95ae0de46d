"""Read-only snapshots of chat messages for tests and the chat page.

A test wants ``reply.text`` and ``reply.button("Rinnova")``, not nested dict lookups; the page
wants JSON. :class:`ChatMessage` gives both, over a copy of the exact Bot API ``Message`` taken at
the time of the snapshot (later edits do not change a snapshot already taken).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from bot.sandbox.errors import SandboxError
from bot.sandbox.world import StoredMessage

JsonDict = dict[str, Any]


@dataclass(frozen=True)
class ChatMessage:
    """One message as a chat shows it now: content, keyboards, edits, attached file."""

    api: JsonDict
    chat_id: int
    thread_id: int | None
    sender_id: int
    from_bot: bool
    reply_keyboard: JsonDict | None
    edit_count: int
    file_id: str | None

    @classmethod
    def of(cls, stored: StoredMessage, bot_id: int) -> ChatMessage:
        return cls(
            api=copy.deepcopy(stored.api),
            chat_id=int(stored.api["chat"]["id"]),
            thread_id=stored.thread_id,
            sender_id=stored.sender_id,
            from_bot=stored.sender_id == bot_id,
            reply_keyboard=copy.deepcopy(stored.reply_keyboard),
            edit_count=len(stored.edits),
            file_id=stored.file.file_id if stored.file else None,
        )

    @property
    def message_id(self) -> int:
        return int(self.api["message_id"])

    @property
    def text(self) -> str | None:
        value = self.api.get("text")
        return value if isinstance(value, str) else None

    @property
    def caption(self) -> str | None:
        value = self.api.get("caption")
        return value if isinstance(value, str) else None

    @property
    def body(self) -> str:
        """Text or caption, whichever the message has ("" for neither)."""
        return self.text or self.caption or ""

    @property
    def inline_keyboard(self) -> list[list[JsonDict]]:
        markup = self.api.get("reply_markup") or {}
        rows: list[list[JsonDict]] = markup.get("inline_keyboard", [])
        return rows

    @property
    def buttons(self) -> list[JsonDict]:
        """All inline buttons, row by row."""
        return [button for row in self.inline_keyboard for button in row]

    def button(self, label: str) -> JsonDict:
        """The inline button whose text contains ``label``; SandboxError if there is none."""
        for candidate in self.buttons:
            if label in candidate.get("text", ""):
                return candidate
        texts = [b.get("text") for b in self.buttons]
        raise SandboxError(f"no button {label!r} on message {self.message_id}; buttons: {texts}")

    @property
    def reply_buttons(self) -> list[str]:
        """Texts of the custom reply keyboard sent with this message, if any."""
        rows = (self.reply_keyboard or {}).get("keyboard", [])
        return [b if isinstance(b, str) else b.get("text", "") for row in rows for b in row]

    def to_json(self) -> JsonDict:
        return {
            "message": self.api,
            "chat_id": self.chat_id,
            "thread_id": self.thread_id,
            "sender_id": self.sender_id,
            "from_bot": self.from_bot,
            "reply_keyboard": self.reply_keyboard,
            "edit_count": self.edit_count,
            "file_id": self.file_id,
        }

    def __str__(self) -> str:
        who = "bot" if self.from_bot else str(self.sender_id)
        where = f"{self.chat_id}/{self.thread_id}" if self.thread_id else str(self.chat_id)
        labels = [b.get("text") for b in self.buttons]
        keys = f" {labels}" if labels else ""
        return f"[{where} #{self.message_id} {who}] {self.body!r}{keys}"
