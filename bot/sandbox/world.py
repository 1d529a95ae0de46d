"""The emulator's in-memory world: users, chats, forum topics and messages.

Kept separate from the HTTP layer and from the Bot API method handlers so that the control API
(tests, the chat page) and the bot's calls change one and the same state. Every object renders
itself in the exact Bot API shape (``to_api``); the emulator checks those shapes against the spec.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any, Literal

from bot.sandbox.files import FileStore, StoredFile

JsonDict = dict[str, Any]
ChatType = Literal["private", "group", "supergroup"]
MemberStatus = Literal["creator", "administrator", "member", "restricted", "left", "kicked"]

# The six colours Telegram allows for topic icons (createForumTopic's icon_color).
TOPIC_COLORS = (7322096, 16766590, 13338331, 9367192, 16749490, 16478047)

_ADMIN_RIGHTS = (
    "can_manage_chat",
    "can_delete_messages",
    "can_manage_video_chats",
    "can_restrict_members",
    "can_promote_members",
    "can_change_info",
    "can_invite_users",
    "can_post_stories",
    "can_edit_stories",
    "can_delete_stories",
    "can_pin_messages",
    "can_manage_topics",
)


@dataclass
class User:
    """A Telegram account: a patron, a librarian, or the bot itself."""

    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = None
    is_bot: bool = False

    def to_api(self) -> JsonDict:
        data: JsonDict = {"id": self.id, "is_bot": self.is_bot, "first_name": self.first_name}
        for key in ("last_name", "username", "language_code"):
            value = getattr(self, key)
            if value is not None:
                data[key] = value
        return data


@dataclass
class Member:
    """A user's membership of a group: status and, for administrators, rights."""

    status: MemberStatus
    rights: dict[str, bool] = field(default_factory=dict)

    @property
    def is_admin(self) -> bool:
        return self.status in ("creator", "administrator")

    @property
    def present(self) -> bool:
        return self.status in ("creator", "administrator", "member", "restricted")

    def can(self, right: str) -> bool:
        return self.status == "creator" or bool(self.rights.get(right))

    def to_api(self, user: User) -> JsonDict:
        """The ChatMember subtype for this status."""
        data: JsonDict = {"status": self.status, "user": user.to_api()}
        if self.status == "creator":
            data["is_anonymous"] = False
        elif self.status == "administrator":
            data.update(can_be_edited=False, is_anonymous=False)
            data.update({right: bool(self.rights.get(right)) for right in _ADMIN_RIGHTS})
        elif self.status == "kicked":
            data["until_date"] = 0
        elif self.status == "restricted":
            data.update(is_member=True, until_date=0)
            data.update(
                {
                    right: False
                    for right in (
                        "can_send_messages",
                        "can_send_audios",
                        "can_send_documents",
                        "can_send_photos",
                        "can_send_videos",
                        "can_send_video_notes",
                        "can_send_voice_notes",
                        "can_send_polls",
                        "can_send_other_messages",
                        "can_add_web_page_previews",
                        "can_react_to_messages",
                        "can_edit_tag",
                        "can_change_info",
                        "can_invite_users",
                        "can_pin_messages",
                        "can_manage_topics",
                    )
                }
            )
        return data


@dataclass
class Topic:
    """A forum topic; its id is the id of the service message that created it."""

    thread_id: int
    name: str
    icon_color: int
    icon_custom_emoji_id: str | None = None
    closed: bool = False
    deleted: bool = False

    def to_api(self) -> JsonDict:
        data: JsonDict = {
            "message_thread_id": self.thread_id,
            "name": self.name,
            "icon_color": self.icon_color,
        }
        if self.icon_custom_emoji_id:
            data["icon_custom_emoji_id"] = self.icon_custom_emoji_id
        return data


@dataclass
class StoredMessage:
    """A message as it is now (``api``) plus what the Bot API object does not carry."""

    api: JsonDict
    sender_id: int
    thread_id: int | None = None
    reply_keyboard: JsonDict | None = None  # ReplyKeyboardMarkup/Remove/ForceReply sent with it
    file: StoredFile | None = None
    edits: list[JsonDict] = field(default_factory=list)  # earlier versions, oldest first
    deleted: bool = False

    @property
    def message_id(self) -> int:
        return int(self.api["message_id"])


@dataclass
class Chat:
    """A private chat with the bot, a group, or a (forum) supergroup."""

    id: int
    type: ChatType
    title: str | None = None
    is_forum: bool = False
    username: str | None = None
    private_user: User | None = None  # the other party of a private chat
    members: dict[int, Member] = field(default_factory=dict)
    topics: dict[int, Topic] = field(default_factory=dict)
    messages: dict[int, StoredMessage] = field(default_factory=dict)
    started: bool = False  # private chats: the user has written to the bot at least once
    blocked: bool = False  # private chats: the user blocked the bot
    menu_button: JsonDict | None = None
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def next_message_id(self) -> int:
        return next(self._ids)

    def to_api(self) -> JsonDict:
        """The short ``Chat`` object carried by every Message."""
        data: JsonDict = {"id": self.id, "type": self.type}
        if self.private_user is not None:
            data.update(self.private_user.to_api())
            data["id"] = self.id
            data["type"] = "private"
            for key in ("is_bot", "language_code"):
                data.pop(key, None)
        else:
            data["title"] = self.title or ""
        if self.username:
            data["username"] = self.username
        if self.is_forum:
            data["is_forum"] = True
        return data

    def full_info(self) -> JsonDict:
        """The ``ChatFullInfo`` object answered by getChat."""
        return {
            **self.to_api(),
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        }

    def live_messages(self, thread_id: int | None = None) -> list[StoredMessage]:
        """Messages not deleted, in order; only those of ``thread_id`` when it is given."""
        return [
            m
            for m in self.messages.values()
            if not m.deleted and (thread_id is None or m.thread_id == thread_id)
        ]


class World:
    """Everything the emulator knows, with id allocation that mimics Telegram's ranges."""

    def __init__(self, bot: User) -> None:
        self.bot = bot
        self.users: dict[int, User] = {bot.id: bot}
        self.chats: dict[int, Chat] = {}
        self.files = FileStore()
        self._user_ids = itertools.count(100_000_001)
        self._group_ids = itertools.count(1)

    def new_user_id(self) -> int:
        user_id = next(self._user_ids)
        while user_id in self.users:
            user_id = next(self._user_ids)
        return user_id

    def new_group_id(self, supergroup: bool) -> int:
        number = next(self._group_ids)
        return -(1_000_000_000_000 + number) if supergroup else -(4_000_000_000 + number)

    def private_chat(self, user: User) -> Chat:
        """The user's private chat with the bot (created on first use, id = user id)."""
        chat = self.chats.get(user.id)
        if chat is None:
            chat = Chat(id=user.id, type="private", private_user=user, username=user.username)
            chat.members = {user.id: Member("member"), self.bot.id: Member("member")}
            self.chats[user.id] = chat
        return chat

    def find_chat(self, chat_id: int | str) -> Chat | None:
        """Resolve a Bot API ``chat_id``: a number or ``@username``."""
        if isinstance(chat_id, str):
            name = chat_id.removeprefix("@").lower()
            return next(
                (c for c in self.chats.values() if (c.username or "").lower() == name), None
            )
        return self.chats.get(chat_id)

    def member(self, chat: Chat, user_id: int) -> Member:
        return chat.members.get(user_id) or Member("left")
