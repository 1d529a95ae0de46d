"""The people side of the sandbox: creating users and groups, and what users do in chats.

Tests and the chat page act only through these methods, which produce the same updates Telegram
would send the bot (message, edited_message, callback_query, inline_query, chosen_inline_result,
my_chat_member). Misuse — a user writing to a group she is not in, pressing a button that is not
on the message — raises :class:`SandboxError`, because it is a bug in the test, not in the bot.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from typing import Any

from bot.sandbox.core import CallbackState, EmulatorCore, InlineState
from bot.sandbox.errors import SandboxError
from bot.sandbox.files import FileKind
from bot.sandbox.methods.chats import open_topic, remove_topic, set_topic_closed
from bot.sandbox.text import user_entities
from bot.sandbox.upload import Upload
from bot.sandbox.view import ChatMessage
from bot.sandbox.world import Chat, Member, MemberStatus, StoredMessage, Topic, User

JsonDict = dict[str, Any]


class UserActions(EmulatorCore):
    """Set up the world and act as its users."""

    # -- setting up ----------------------------------------------------------------------------

    def add_user(
        self,
        first_name: str = "Utente",
        *,
        user_id: int | None = None,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "it",
        started: bool = False,
    ) -> User:
        """A new Telegram user; ``started=True`` as if she had already written to the bot."""
        uid = user_id if user_id is not None else self.world.new_user_id()
        if uid in self.world.users:
            raise SandboxError(f"user {uid} exists already")
        user = User(uid, first_name, last_name, username, language_code)
        self.world.users[uid] = user
        if started:
            self.world.private_chat(user).started = True
        self.events.emit("user", user=user.to_api())
        return user

    def add_group(
        self,
        title: str,
        *,
        forum: bool = False,
        supergroup: bool | None = None,
        members: Mapping[int, MemberStatus] | None = None,
        admins: Iterable[int] = (),
        bot_status: MemberStatus = "administrator",
        bot_can_manage_topics: bool = True,
        username: str | None = None,
    ) -> Chat:
        """A group (a forum supergroup with ``forum=True``) with the bot and the given users."""
        is_super = forum if supergroup is None else supergroup or forum
        chat = Chat(
            id=self.world.new_group_id(is_super),
            type="supergroup" if is_super else "group",
            title=title,
            is_forum=forum,
            username=username,
        )
        self.world.chats[chat.id] = chat
        for user_id, status in (members or {}).items():
            self.set_member(chat.id, user_id, status, announce=False)
        for user_id in admins:
            self.set_member(
                chat.id, user_id, "administrator", can_manage_topics=True, announce=False
            )
        self.set_member(chat.id, self.bot.id, bot_status, can_manage_topics=bot_can_manage_topics)
        self.events.emit("chat", chat=self.chat_summary(chat))
        return chat

    def set_member(
        self,
        chat_id: int,
        user_id: int,
        status: MemberStatus,
        *,
        can_manage_topics: bool = False,
        can_delete_messages: bool = True,
        announce: bool = True,
    ) -> Member:
        """Set a user's (or the bot's) membership; the bot gets my_chat_member for its own."""
        chat = self._chat(chat_id)
        user = self._user(user_id)
        old = self.world.member(chat, user_id)
        rights = {"can_manage_chat": True, "can_delete_messages": can_delete_messages}
        rights.update(can_manage_topics=can_manage_topics, can_pin_messages=True)
        rights.update(can_invite_users=True, can_restrict_members=True)
        member = Member(status, rights if status == "administrator" else {})
        chat.members[user_id] = member
        if user_id == self.bot.id and announce:
            self.updates.push(
                "my_chat_member",
                {
                    "chat": chat.to_api(),
                    "from": self._any_admin(chat).to_api(),
                    "date": self.now(),
                    "old_chat_member": old.to_api(user),
                    "new_chat_member": member.to_api(user),
                },
            )
        self.events.emit("member", chat_id=chat.id, user_id=user_id, status=status)
        return member

    def create_topic(self, chat_id: int, name: str, *, user_id: int) -> Topic:
        """A staff member creates a topic by hand (the bot gets the service message)."""
        chat = self._chat(chat_id)
        if not chat.is_forum:
            raise SandboxError(f"chat {chat_id} is not a forum")
        self._require_member(chat, user_id)
        return open_topic(self, chat, name, user_id)

    def close_topic(
        self, chat_id: int, thread_id: int, *, user_id: int, closed: bool = True
    ) -> None:
        """A staff member closes (or reopens) a topic by hand."""
        chat = self._chat(chat_id)
        set_topic_closed(self, chat, self._topic(chat, thread_id), closed, user_id)

    def delete_topic(self, chat_id: int, thread_id: int) -> None:
        """A staff member deletes a topic by hand; Telegram sends the bot no update for it."""
        chat = self._chat(chat_id)
        remove_topic(self, chat, self._topic(chat, thread_id))

    def block_bot(self, user_id: int, blocked: bool = True) -> None:
        """The user blocks (or unblocks) the bot: sends to her fail with 403 while blocked."""
        user = self._user(user_id)
        chat = self.world.private_chat(user)
        if chat.blocked == blocked:
            return
        chat.blocked = blocked
        old, new = (
            (Member("member"), Member("kicked"))
            if blocked
            else (Member("kicked"), Member("member"))
        )
        self.updates.push(
            "my_chat_member",
            {
                "chat": chat.to_api(),
                "from": user.to_api(),
                "date": self.now(),
                "old_chat_member": old.to_api(self.bot),
                "new_chat_member": new.to_api(self.bot),
            },
        )
        self.events.emit("blocked", chat_id=chat.id, user_id=user_id, blocked=blocked)

    # -- users acting -------------------------------------------------------------------------

    def send_text(
        self,
        user_id: int,
        text: str,
        *,
        chat_id: int | None = None,
        thread_id: int | None = None,
        reply_to: int | None = None,
    ) -> ChatMessage:
        """The user sends a text (commands get their bot_command entities, as in Telegram)."""
        if not text.strip():
            raise SandboxError("a user cannot send an empty message")
        content: JsonDict = {"text": text}
        entities = user_entities(text)
        if entities:
            content["entities"] = entities
        return self._user_post(user_id, content, chat_id, thread_id, reply_to)

    def send_command(self, user_id: int, command: str, args: str = "", **where: Any) -> ChatMessage:
        """Shortcut for ``send_text(user, "/command args")``."""
        text = f"/{command.removeprefix('/')}" + (f" {args}" if args else "")
        return self.send_text(user_id, text, **where)

    def send_file(
        self,
        user_id: int,
        kind: FileKind,
        data: bytes,
        *,
        file_name: str = "",
        mime_type: str = "",
        caption: str | None = None,
        chat_id: int | None = None,
        thread_id: int | None = None,
        duration: int = 0,
        emoji: str | None = None,
    ) -> ChatMessage:
        """The user sends a photo, document, voice note or sticker."""
        stored_file = self.world.files.add(kind, Upload(file_name, mime_type, data))
        extra: JsonDict = {}
        if kind == "voice":
            extra["duration"] = duration
        if kind == "sticker" and emoji:
            extra["emoji"] = emoji
        content: JsonDict = {kind: stored_file.media_api(**extra)}
        if caption:
            content["caption"] = caption
            if entities := user_entities(caption):
                content["caption_entities"] = entities
        return self._user_post(user_id, content, chat_id, thread_id, None, file=stored_file)

    def send_photo(self, user_id: int, data: bytes, **options: Any) -> ChatMessage:
        return self.send_file(user_id, "photo", data, **options)

    def send_document(self, user_id: int, data: bytes, **options: Any) -> ChatMessage:
        return self.send_file(user_id, "document", data, **options)

    def send_voice(self, user_id: int, data: bytes, **options: Any) -> ChatMessage:
        return self.send_file(user_id, "voice", data, **options)

    def send_sticker(self, user_id: int, data: bytes, **options: Any) -> ChatMessage:
        return self.send_file(user_id, "sticker", data, **options)

    def edit_text(self, user_id: int, chat_id: int, message_id: int, text: str) -> ChatMessage:
        """The user edits one of her messages: the bot gets an edited_message update."""
        chat = self._chat(chat_id)
        stored = self._stored(chat, message_id)
        if stored.sender_id != user_id:
            raise SandboxError(f"message {message_id} was not sent by user {user_id}")
        key = "text" if "text" in stored.api else "caption"
        changes: JsonDict = {key: text}
        if entities := user_entities(text):
            changes["entities" if key == "text" else "caption_entities"] = entities
        self.edit(chat, stored, changes, drop=("entities", "caption_entities"))
        return ChatMessage.of(stored, self.bot.id)

    def press_button(
        self,
        user_id: int,
        chat_id: int,
        message_id: int,
        *,
        data: str | None = None,
        text: str | None = None,
        forge: bool = False,
    ) -> str:
        """The user presses an inline button (by callback ``data`` or by label ``text``).

        Returns the callback query id. ``forge=True`` sends ``data`` even when no button carries
        it, as a tampering client could: for tests of the bot's callback checks.
        """
        chat = self._chat(chat_id)
        stored = self._stored(chat, message_id)
        rows = (stored.api.get("reply_markup") or {}).get("inline_keyboard", [])
        buttons = [button for row in rows for button in row]
        if not forge:
            match = [
                b
                for b in buttons
                if "callback_data" in b
                and (data is None or b["callback_data"] == data)
                and (text is None or text in b.get("text", ""))
            ]
            if not match:
                labels = [(b.get("text"), b.get("callback_data")) for b in buttons]
                raise SandboxError(f"no such callback button on message {message_id}: {labels}")
            data = match[0]["callback_data"]
        if data is None:
            raise SandboxError("a forged press needs data")
        user = self._user(user_id)
        query_id = self.next_query_id()
        self.callbacks[query_id] = CallbackState(user_id, chat.id, message_id, data)
        self.updates.push(
            "callback_query",
            {
                "id": query_id,
                "from": user.to_api(),
                "message": copy.deepcopy(stored.api),
                "chat_instance": str(abs(chat.id) * 7919 % 10**12),
                "data": data,
            },
        )
        self.events.emit("callback_query", chat_id=chat.id, message_id=message_id, data=data)
        return query_id

    def press_reply_button(
        self, user_id: int, text: str, *, chat_id: int | None = None, thread_id: int | None = None
    ) -> ChatMessage:
        """The user taps a button of the custom keyboard the bot showed last in the chat."""
        chat = self._chat(chat_id if chat_id is not None else user_id)
        keyboards = [m.reply_keyboard for m in chat.live_messages() if m.reply_keyboard]
        current = keyboards[-1] if keyboards else None
        rows = (current or {}).get("keyboard", [])
        labels = [b if isinstance(b, str) else b.get("text") for row in rows for b in row]
        if text not in labels:
            raise SandboxError(f"no reply-keyboard button {text!r}; shown: {labels}")
        return self.send_text(user_id, text, chat_id=chat.id, thread_id=thread_id)

    def inline_query(
        self, user_id: int, query: str, *, offset: str = "", chat_type: str = "sender"
    ) -> str:
        """The user types ``@bot query``; returns the inline query id."""
        user = self._user(user_id)
        query_id = self.next_query_id()
        self.inline_queries[query_id] = InlineState(user_id, query, offset)
        self.updates.push(
            "inline_query",
            {
                "id": query_id,
                "from": user.to_api(),
                "query": query,
                "offset": offset,
                "chat_type": chat_type,
            },
        )
        self.events.emit("inline_query", user_id=user_id, inline_query_id=query_id, query=query)
        return query_id

    def choose_inline_result(
        self, user_id: int, inline_query_id: str, result_id: str, *, chat_id: int | None = None
    ) -> ChatMessage | None:
        """The user picks a result: chosen_inline_result, and the message posted in ``chat_id``."""
        state = self.inline_queries.get(inline_query_id)
        if state is None or state.answer is None:
            raise SandboxError(f"inline query {inline_query_id} has not been answered")
        results = {r["id"]: r for r in state.answer.get("results", [])}
        if result_id not in results:
            raise SandboxError(f"no result {result_id!r}; results: {sorted(results)}")
        user = self._user(user_id)
        self.updates.push(
            "chosen_inline_result",
            {"result_id": result_id, "from": user.to_api(), "query": state.query},
        )
        content = results[result_id].get("input_message_content") or {}
        if chat_id is None or "message_text" not in content:
            return None
        body: JsonDict = {"text": content["message_text"], "via_bot": self.bot.to_api()}
        parsed = self.formatted(content["message_text"], content.get("parse_mode"), None, "text")
        body.update(parsed)
        chat = self._chat(chat_id)
        stored = self.post(chat, user, body, reply_markup=results[result_id].get("reply_markup"))
        return ChatMessage.of(stored, self.bot.id)

    # -- helpers ------------------------------------------------------------------------------

    def _user_post(
        self,
        user_id: int,
        content: JsonDict,
        chat_id: int | None,
        thread_id: int | None,
        reply_to: int | None,
        file: Any = None,
    ) -> ChatMessage:
        user = self._user(user_id)
        if chat_id is None or chat_id == user_id:
            chat = self.world.private_chat(user)
            chat.started = True
            if chat.blocked:
                self.block_bot(user_id, blocked=False)
        else:
            chat = self._chat(chat_id)
            self._require_member(chat, user_id)
        topic = None
        if thread_id is not None:
            topic = self._topic(chat, thread_id)
            if topic.closed and not self.world.member(chat, user_id).can("can_manage_topics"):
                raise SandboxError(f"topic {thread_id} is closed")
        replied = self._stored(chat, reply_to) if reply_to is not None else None
        stored = self.post(chat, user, content, thread=topic, reply_to=replied, file=file)
        return ChatMessage.of(stored, self.bot.id)

    def _user(self, user_id: int) -> User:
        user = self.world.users.get(user_id)
        if user is None:
            raise SandboxError(f"no user {user_id}")
        return user

    def _chat(self, chat_id: int) -> Chat:
        chat = self.world.chats.get(chat_id)
        if chat is None:
            user = self.world.users.get(chat_id)
            if user is None or user.is_bot:
                raise SandboxError(f"no chat {chat_id}")
            chat = self.world.private_chat(user)
        return chat

    def _topic(self, chat: Chat, thread_id: int) -> Topic:
        topic = chat.topics.get(thread_id)
        if topic is None or topic.deleted:
            raise SandboxError(f"no topic {thread_id} in chat {chat.id}")
        return topic

    def _stored(self, chat: Chat, message_id: int) -> StoredMessage:
        stored = chat.messages.get(message_id)
        if stored is None or stored.deleted:
            raise SandboxError(f"no message {message_id} in chat {chat.id}")
        return stored

    def _require_member(self, chat: Chat, user_id: int) -> None:
        if not self.world.member(chat, user_id).present:
            raise SandboxError(f"user {user_id} is not a member of chat {chat.id}")

    def _any_admin(self, chat: Chat) -> User:
        for user_id, member in chat.members.items():
            if member.is_admin and user_id != self.bot.id:
                return self.world.users[user_id]
        return self.bot

    def chat_summary(self, chat: Chat) -> JsonDict:
        """A chat as the page lists it: the API Chat plus members and topics."""
        return {
            **chat.to_api(),
            "members": {str(uid): m.status for uid, m in chat.members.items()},
            "topics": [
                {**t.to_api(), "closed": t.closed} for t in chat.topics.values() if not t.deleted
            ],
            "blocked": chat.blocked,
        }
