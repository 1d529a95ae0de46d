"""The emulator's core: one entry point for Bot API calls, and the shared rules of sending.

:meth:`EmulatorCore.call` is what the HTTP layer invokes for ``/bot<token>/<method>``: it
validates against the spec (recording violations), applies injected faults, runs the method's
handler and checks the answer's shape against the spec too. The helpers below it (who may send
where, posting a message, editing one) are shared by the bot's methods and by the user actions
of the control API, so both sides obey the same rules.
"""

from __future__ import annotations

import asyncio
import copy
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from bot.sandbox.errors import ApiError, bad_request, forbidden, not_found
from bot.sandbox.events import EventLog
from bot.sandbox.faults import FaultInjector
from bot.sandbox.files import StoredFile
from bot.sandbox.spec import load_spec
from bot.sandbox.text import EntityParseError, parse
from bot.sandbox.updates import UpdateQueue
from bot.sandbox.upload import Upload
from bot.sandbox.world import Chat, StoredMessage, Topic, User, World

JsonDict = dict[str, Any]
Handler = Callable[["EmulatorCore", JsonDict], Awaitable[Any]]
ViolationKind = Literal["request", "response", "unsupported"]

NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)
QUERY_TOO_OLD = "query is too old and response timeout expired or query ID is invalid"


@dataclass(frozen=True)
class Violation:
    """A call Telegram would refuse (or an answer of the emulator that breaks the spec)."""

    kind: ViolationKind
    method: str
    path: str
    message: str
    description: str
    params: JsonDict

    def __str__(self) -> str:
        where = f"{self.method}.{self.path}" if self.path else self.method
        return f"{self.kind} violation at {where}: {self.message} ({self.description})"

    def to_json(self) -> JsonDict:
        return {
            "kind": self.kind,
            "method": self.method,
            "path": self.path,
            "message": self.message,
            "description": self.description,
            "params": self.params,
        }


@dataclass
class CallRecord:
    """One Bot API call the bot made; ``status`` stays None while it is being handled."""

    method: str
    params: JsonDict
    at: float
    status: int | None = None
    description: str | None = None


@dataclass
class CallbackState:
    user_id: int
    chat_id: int
    message_id: int
    data: str
    answer: JsonDict | None = None


@dataclass
class InlineState:
    user_id: int
    query: str
    offset: str
    answer: JsonDict | None = None


@dataclass
class BotProfile:
    """What the bot set about itself: commands, name, descriptions, per scope/language."""

    commands: dict[tuple[str, str], list[JsonDict]] = field(default_factory=dict)
    texts: dict[tuple[str, str], str] = field(default_factory=dict)  # (kind, language) → text
    default_menu_button: JsonDict = field(default_factory=lambda: {"type": "commands"})


def _loggable(raw: JsonDict) -> JsonDict:
    return {
        k: f"<upload {v.filename} {len(v.data)} bytes>" if isinstance(v, Upload) else v
        for k, v in raw.items()
    }


class EmulatorCore:
    """State and the Bot API entry point; the control API is layered on top of it."""

    max_call_records = 20_000

    def __init__(
        self,
        token: str = "123456:SANDBOX-TOKEN",
        *,
        bot_username: str = "bibliobot_sandbox_bot",
        bot_name: str = "Bibliobot",
        clock: Callable[[], float] = time.time,
        check_responses: bool = True,
        max_poll_timeout: float = 50.0,
    ) -> None:
        bot_id = int(token.split(":", 1)[0])
        self.token = token
        self.clock = clock
        self.check_responses = check_responses
        self.max_poll_timeout = max_poll_timeout
        self.bot = User(bot_id, bot_name, username=bot_username, is_bot=True)
        self.world = World(self.bot)
        self.spec = load_spec()
        self.updates = UpdateQueue(clock)
        self.events = EventLog()
        self.faults = FaultInjector()
        self.profile = BotProfile()
        self.violations: list[Violation] = []
        self.calls: list[CallRecord] = []
        self.callbacks: dict[str, CallbackState] = {}
        self.inline_queries: dict[str, InlineState] = {}
        self._method_names = {name.lower(): name for name in self.spec.methods}
        self._query_ids = iter(range(1, 1 << 62))

    # -- the Bot API entry point --------------------------------------------------------------

    async def call(self, method: str, raw: JsonDict) -> tuple[int, JsonDict]:
        """Handle one Bot API call; returns the HTTP status and the JSON body to answer."""
        from bot.sandbox.methods import HANDLERS  # the handlers import this module

        name = self._method_names.get(method.lower())
        record = CallRecord(name or method, _loggable(raw), self.clock())
        if len(self.calls) >= self.max_call_records:
            del self.calls[: self.max_call_records // 2]  # a long demo must not grow forever
        self.calls.append(record)
        self.events.notify()  # a call is news to waiters ("the bot is handling it")
        if name is None:
            return self._answer(record, not_found())
        params, problems = self.spec.check_request(name, raw)
        if problems:
            for problem in problems:
                self._violate("request", name, problem.path, problem.message, problem.reason, raw)
            return self._answer(record, ApiError(400, problems[0].description))
        handler = HANDLERS.get(name)
        if handler is None:
            reason = f"method {name} is not implemented by the sandbox emulator"
            self._violate("unsupported", name, "", reason, reason, raw)
            return self._answer(record, bad_request(reason))
        try:
            await self.faults.apply(name, params)
            result = await handler(self, params)
        except ApiError as error:
            return self._answer(record, error)
        if self.check_responses:
            for problem in self.spec.check_value(self.spec.returns[name], result, "result"):
                self._violate("response", name, problem.path, problem.message, problem.reason, raw)
        record.status = 200
        self.events.notify()
        return 200, {"ok": True, "result": result}

    def _answer(self, record: CallRecord, error: ApiError) -> tuple[int, JsonDict]:
        record.status, record.description = error.status, error.description
        self.events.notify()
        return error.status, error.to_json()

    def _violate(
        self,
        kind: ViolationKind,
        method: str,
        path: str,
        message: str,
        reason: str,
        raw: JsonDict,
    ) -> None:
        violation = Violation(kind, method, path, message, f"Bad Request: {reason}", _loggable(raw))
        self.violations.append(violation)
        self.events.emit("violation", violation=violation.to_json())

    # -- shared rules -------------------------------------------------------------------------

    def now(self) -> int:
        return int(self.clock())

    def next_query_id(self) -> str:
        return f"{next(self._query_ids) + 4_000_000_000_000_000}"

    def chat_or_400(self, chat_id: int | str) -> Chat:
        chat = self.world.find_chat(chat_id)
        user = self.world.users.get(chat_id) if isinstance(chat_id, int) else None
        if chat is None and user is not None and not user.is_bot:
            chat = self.world.private_chat(user)  # a known user who never wrote to the bot
        if chat is None:
            raise bad_request("chat not found")
        return chat

    def check_bot_can_send(self, chat: Chat) -> None:
        """Refuse like Telegram when the bot may not write to ``chat``."""
        if chat.type == "private":
            if chat.blocked:
                raise forbidden("bot was blocked by the user")
            if not chat.started:
                raise forbidden("bot can't initiate conversation with a user")
            return
        member = self.world.member(chat, self.bot.id)
        kind = "supergroup" if chat.type == "supergroup" else "group"
        if member.status == "kicked":
            raise forbidden(f"bot was kicked from the {kind} chat")
        if not member.present:
            raise forbidden(f"bot is not a member of the {kind} chat")

    def resolve_thread(self, chat: Chat, thread_id: int | None, sender_id: int) -> Topic | None:
        """The forum topic a message goes to; refuses deleted and (for non-admins) closed ones."""
        if thread_id is None:
            return None
        topic = chat.topics.get(thread_id) if chat.is_forum else None
        if topic is None or topic.deleted:
            if not chat.is_forum and chat.type != "private" and thread_id in chat.messages:
                return None  # a reply thread in an ordinary group
            raise bad_request("message thread not found")
        if topic.closed and not self.world.member(chat, sender_id).can("can_manage_topics"):
            raise bad_request("TOPIC_CLOSED")
        return topic

    def resolve_reply(self, chat: Chat, reply: JsonDict | None) -> StoredMessage | None:
        """The message that ``reply_parameters`` points at (None when it is allowed to vanish)."""
        if not reply:
            return None
        target_chat = chat
        if "chat_id" in reply:
            target_chat = self.chat_or_400(reply["chat_id"])
        stored = target_chat.messages.get(int(reply["message_id"]))
        if stored is None or stored.deleted:
            if reply.get("allow_sending_without_reply"):
                return None
            raise bad_request("message to be replied not found")
        return stored

    def formatted(
        self, value: str, parse_mode: str | None, entities: list[JsonDict] | None, key: str
    ) -> JsonDict:
        """``{"text": ..., "entities": [...]}`` (or caption/caption_entities) after parsing."""
        entity_key = "entities" if key == "text" else f"{key}_entities"
        if entities:
            return {key: value, entity_key: copy.deepcopy(entities)}
        try:
            parsed = parse(value, parse_mode)
        except EntityParseError as error:
            raise bad_request(f"can't parse entities: {error}") from error
        content: JsonDict = {key: parsed.text}
        if parsed.entities:
            content[entity_key] = parsed.entities
        return content

    def post(
        self,
        chat: Chat,
        sender: User,
        content: JsonDict,
        *,
        thread: Topic | None = None,
        reply_to: StoredMessage | None = None,
        reply_markup: JsonDict | None = None,
        file: StoredFile | None = None,
    ) -> StoredMessage:
        """Store a new message, tell the page, and queue an update when a user sent it."""
        message_id = chat.next_message_id()
        api: JsonDict = {
            "message_id": message_id,
            "from": sender.to_api(),
            "date": self.now(),
            "chat": chat.to_api(),
        }
        if thread is not None:
            api["message_thread_id"] = thread.thread_id
            api["is_topic_message"] = True
            if reply_to is None:
                reply_to = chat.messages.get(thread.thread_id)
        if reply_to is not None:
            quoted = {k: v for k, v in reply_to.api.items() if k != "reply_to_message"}
            api["reply_to_message"] = copy.deepcopy(quoted)
        api.update(content)
        keyboard: JsonDict | None = None
        if reply_markup and "inline_keyboard" in reply_markup:
            api["reply_markup"] = copy.deepcopy(reply_markup)
        elif reply_markup:
            keyboard = copy.deepcopy(reply_markup)
        stored = StoredMessage(
            api=api,
            sender_id=sender.id,
            thread_id=thread.thread_id if thread is not None else None,
            reply_keyboard=keyboard,
            file=file,
        )
        chat.messages[message_id] = stored
        self.events.emit("message", chat_id=chat.id, message=copy.deepcopy(api))
        if sender.id != self.bot.id and self.world.member(chat, self.bot.id).present:
            self.updates.push("message", copy.deepcopy(api))
        return stored

    def edit(
        self, chat: Chat, stored: StoredMessage, changes: JsonDict, drop: tuple[str, ...] = ()
    ) -> None:
        """Apply an edit, keeping the previous version; queue edited_message for user edits."""
        stored.edits.append(copy.deepcopy(stored.api))
        for key in drop:
            stored.api.pop(key, None)
        stored.api.update(copy.deepcopy(changes))
        stored.api["edit_date"] = self.now()
        self.events.emit("edit", chat_id=chat.id, message=copy.deepcopy(stored.api))
        if stored.sender_id != self.bot.id:
            self.updates.push("edited_message", copy.deepcopy(stored.api))

    def delete(self, chat: Chat, stored: StoredMessage) -> None:
        stored.deleted = True
        self.events.emit("delete", chat_id=chat.id, message_id=stored.message_id)

    async def aclose(self) -> None:
        """Release every long poll and stream (server shutdown)."""
        self.events.close()
        await self.updates.close()
        await asyncio.sleep(0)
