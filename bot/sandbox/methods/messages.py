"""Bot API methods that send, edit, copy, forward and delete messages, and file access."""

from __future__ import annotations

import copy
from typing import Any

from bot.sandbox.core import NOT_MODIFIED, EmulatorCore, Handler
from bot.sandbox.errors import bad_request
from bot.sandbox.files import FileKind, StoredFile
from bot.sandbox.upload import Upload
from bot.sandbox.world import Chat, StoredMessage, Topic

JsonDict = dict[str, Any]

# Keys of a Message that make up its content, copied by copyMessage/forwardMessage.
CONTENT_KEYS = (
    "text",
    "entities",
    "caption",
    "caption_entities",
    "document",
    "photo",
    "voice",
    "sticker",
    "audio",
    "video",
    "animation",
)
_MEDIA_KEYS = CONTENT_KEYS[4:]


def _target(emu: EmulatorCore, p: JsonDict) -> tuple[Chat, Topic | None, StoredMessage | None]:
    """Chat, topic and replied-to message of a send call, after Telegram's refusals."""
    chat = emu.chat_or_400(p["chat_id"])
    emu.check_bot_can_send(chat)
    thread = emu.resolve_thread(chat, p.get("message_thread_id"), emu.bot.id)
    reply_to = emu.resolve_reply(chat, p.get("reply_parameters"))
    return chat, thread, reply_to


async def send_message(emu: EmulatorCore, p: JsonDict) -> JsonDict:
    chat, thread, reply_to = _target(emu, p)
    content = emu.formatted(p["text"], p.get("parse_mode"), p.get("entities"), "text")
    if not content["text"]:
        raise bad_request("message text is empty")
    stored = emu.post(
        chat,
        emu.bot,
        content,
        thread=thread,
        reply_to=reply_to,
        reply_markup=p.get("reply_markup"),
    )
    return stored.api


def _file(emu: EmulatorCore, value: Upload | str, kind: FileKind) -> StoredFile:
    """The file a send call names: a fresh upload, a known file_id, or an HTTP URL."""
    files = emu.world.files
    if isinstance(value, Upload):
        return files.add(kind, value)
    known = files.get(value)
    if known is not None:
        if known.kind != kind:
            raise bad_request(f"can't use file of type {known.kind.title()} as {kind.title()}")
        return known
    if value.startswith(("http://", "https://")):
        return files.add_url(kind, value)
    raise bad_request("wrong file identifier/HTTP URL specified")


def _media_sender(kind: FileKind) -> Handler:
    async def send(emu: EmulatorCore, p: JsonDict) -> JsonDict:
        chat, thread, reply_to = _target(emu, p)
        stored_file = _file(emu, p[kind], kind)
        extra: JsonDict = {}
        if kind == "voice" and "duration" in p:
            extra["duration"] = p["duration"]
        if kind == "sticker" and "emoji" in p:
            extra["emoji"] = p["emoji"]
        content: JsonDict = {kind: stored_file.media_api(**extra)}
        if p.get("caption"):
            parse_mode = p.get("parse_mode")
            caption = emu.formatted(p["caption"], parse_mode, p.get("caption_entities"), "caption")
            if caption["caption"]:
                content.update(caption)
        stored = emu.post(
            chat,
            emu.bot,
            content,
            thread=thread,
            reply_to=reply_to,
            reply_markup=p.get("reply_markup"),
            file=stored_file,
        )
        return stored.api

    return send


async def get_file(emu: EmulatorCore, p: JsonDict) -> JsonDict:
    stored = emu.world.files.get(p["file_id"])
    if stored is None:
        raise bad_request("invalid file_id")
    return stored.file_api()


def _bot_message(emu: EmulatorCore, p: JsonDict, action: str) -> tuple[Chat, StoredMessage]:
    """The message an edit call targets; only the bot's own messages in a chat it can see."""
    if "inline_message_id" in p:
        raise bad_request("MESSAGE_ID_INVALID")
    if "chat_id" not in p or "message_id" not in p:
        raise bad_request("message identifier is not specified")
    chat = emu.chat_or_400(p["chat_id"])
    stored = chat.messages.get(p["message_id"])
    if stored is None or stored.deleted:
        raise bad_request(f"message to {action} not found")
    if stored.sender_id != emu.bot.id:
        raise bad_request(f"message can't be {action}ed")
    return chat, stored


def _same(stored: StoredMessage, content: JsonDict, markup: JsonDict | None) -> bool:
    current = {k: stored.api.get(k) for k in content}
    entities_key = "entities" if "text" in content else "caption_entities"
    return (
        current == content
        and stored.api.get(entities_key) == content.get(entities_key)
        and stored.api.get("reply_markup") == markup
    )


async def edit_message_text(emu: EmulatorCore, p: JsonDict) -> JsonDict:
    chat, stored = _bot_message(emu, p, "edit")
    if "text" not in stored.api:
        raise bad_request("there is no text in the message to edit")
    if "text" not in p:
        raise bad_request("text must be non-empty")
    content = emu.formatted(p["text"], p.get("parse_mode"), p.get("entities"), "text")
    if not content["text"]:
        raise bad_request("message text is empty")
    markup = p.get("reply_markup")
    if _same(stored, content, markup):
        raise bad_request(NOT_MODIFIED)
    changes = {**content, **({"reply_markup": markup} if markup else {})}
    emu.edit(chat, stored, changes, drop=("entities", "reply_markup"))
    return stored.api


async def edit_message_caption(emu: EmulatorCore, p: JsonDict) -> JsonDict:
    chat, stored = _bot_message(emu, p, "edit")
    if not any(key in stored.api for key in _MEDIA_KEYS):
        raise bad_request("there is no caption in the message to edit")
    content = emu.formatted(
        p.get("caption", ""), p.get("parse_mode"), p.get("caption_entities"), "caption"
    )
    markup = p.get("reply_markup")
    if _same(stored, content, markup):
        raise bad_request(NOT_MODIFIED)
    changes = {**content, **({"reply_markup": markup} if markup else {})}
    emu.edit(chat, stored, changes, drop=("caption", "caption_entities", "reply_markup"))
    return stored.api


async def edit_message_reply_markup(emu: EmulatorCore, p: JsonDict) -> JsonDict:
    chat, stored = _bot_message(emu, p, "edit")
    markup = p.get("reply_markup")
    if stored.api.get("reply_markup") == markup:
        raise bad_request(NOT_MODIFIED)
    emu.edit(chat, stored, {"reply_markup": markup} if markup else {}, drop=("reply_markup",))
    return stored.api


async def delete_message(emu: EmulatorCore, p: JsonDict) -> bool:
    chat = emu.chat_or_400(p["chat_id"])
    stored = chat.messages.get(p["message_id"])
    if stored is None or stored.deleted:
        raise bad_request("message to delete not found")
    own = stored.sender_id == emu.bot.id
    may_delete = emu.world.member(chat, emu.bot.id).can("can_delete_messages")
    if chat.type != "private" and not own and not may_delete:
        raise bad_request("message can't be deleted")
    emu.delete(chat, stored)
    return True


async def delete_messages(emu: EmulatorCore, p: JsonDict) -> bool:
    chat = emu.chat_or_400(p["chat_id"])
    for message_id in p["message_ids"]:
        stored = chat.messages.get(message_id)
        if stored is not None and not stored.deleted:
            emu.delete(chat, stored)
    return True


def _source(emu: EmulatorCore, p: JsonDict, action: str) -> StoredMessage:
    source_chat = emu.chat_or_400(p["from_chat_id"])
    stored = source_chat.messages.get(p["message_id"])
    if stored is None or stored.deleted:
        raise bad_request(f"message to {action} not found")
    if not any(key in stored.api for key in CONTENT_KEYS):
        raise bad_request(f"message can't be {action}ed")
    return stored


async def copy_message(emu: EmulatorCore, p: JsonDict) -> JsonDict:
    source = _source(emu, p, "copy")
    chat, thread, reply_to = _target(emu, p)
    content = {k: copy.deepcopy(v) for k, v in source.api.items() if k in CONTENT_KEYS}
    if "caption" in p:
        content.pop("caption", None)
        content.pop("caption_entities", None)
        if p["caption"]:
            parse_mode = p.get("parse_mode")
            caption = emu.formatted(p["caption"], parse_mode, p.get("caption_entities"), "caption")
            content.update(caption)
    stored = emu.post(
        chat,
        emu.bot,
        content,
        thread=thread,
        reply_to=reply_to,
        reply_markup=p.get("reply_markup"),
        file=source.file,
    )
    return {"message_id": stored.message_id}


async def forward_message(emu: EmulatorCore, p: JsonDict) -> JsonDict:
    source = _source(emu, p, "forward")
    chat, thread, _ = _target(emu, p)
    content = {k: copy.deepcopy(v) for k, v in source.api.items() if k in CONTENT_KEYS}
    origin = source.api.get("forward_origin") or {
        "type": "user",
        "sender_user": copy.deepcopy(source.api["from"]),
        "date": source.api["date"],
    }
    content["forward_origin"] = copy.deepcopy(origin)
    stored = emu.post(chat, emu.bot, content, thread=thread, file=source.file)
    return stored.api


async def send_chat_action(emu: EmulatorCore, p: JsonDict) -> bool:
    chat = emu.chat_or_400(p["chat_id"])
    emu.check_bot_can_send(chat)
    emu.resolve_thread(chat, p.get("message_thread_id"), emu.bot.id)
    emu.events.emit(
        "chat_action",
        chat_id=chat.id,
        thread_id=p.get("message_thread_id"),
        action=p["action"],
    )
    return True


HANDLERS: dict[str, Handler] = {
    "sendMessage": send_message,
    "sendDocument": _media_sender("document"),
    "sendPhoto": _media_sender("photo"),
    "sendVoice": _media_sender("voice"),
    "sendSticker": _media_sender("sticker"),
    "sendAudio": _media_sender("audio"),
    "sendVideo": _media_sender("video"),
    "sendAnimation": _media_sender("animation"),
    "getFile": get_file,
    "editMessageText": edit_message_text,
    "editMessageCaption": edit_message_caption,
    "editMessageReplyMarkup": edit_message_reply_markup,
    "deleteMessage": delete_message,
    "deleteMessages": delete_messages,
    "copyMessage": copy_message,
    "forwardMessage": forward_message,
    "sendChatAction": send_chat_action,
}
