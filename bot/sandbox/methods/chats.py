"""Bot API methods about chats, members and forum topics."""

from __future__ import annotations

from typing import Any

from bot.sandbox.core import EmulatorCore, Handler
from bot.sandbox.errors import bad_request
from bot.sandbox.world import TOPIC_COLORS, Chat, StoredMessage, Topic

JsonDict = dict[str, Any]


async def get_chat(emu: EmulatorCore, p: JsonDict) -> JsonDict:
    chat = emu.chat_or_400(p["chat_id"])
    if chat.type != "private" and not emu.world.member(chat, emu.bot.id).present:
        raise bad_request("chat not found")
    return chat.full_info()


async def get_chat_member(emu: EmulatorCore, p: JsonDict) -> JsonDict:
    chat = emu.chat_or_400(p["chat_id"])
    user = emu.world.users.get(p["user_id"])
    if user is None:
        raise bad_request("user not found")
    if chat.type == "private" and user.id not in (chat.id, emu.bot.id):
        raise bad_request("user not found")
    return emu.world.member(chat, user.id).to_api(user)


async def get_chat_administrators(emu: EmulatorCore, p: JsonDict) -> list[JsonDict]:
    chat = emu.chat_or_400(p["chat_id"])
    if chat.type == "private":
        raise bad_request("there are no administrators in the private chat")
    return [
        member.to_api(emu.world.users[user_id])
        for user_id, member in chat.members.items()
        if member.is_admin
    ]


async def get_chat_member_count(emu: EmulatorCore, p: JsonDict) -> int:
    chat = emu.chat_or_400(p["chat_id"])
    return sum(1 for member in chat.members.values() if member.present)


def _forum(emu: EmulatorCore, p: JsonDict) -> Chat:
    """The forum supergroup of a topic call, after Telegram's rights checks for the bot."""
    chat = emu.chat_or_400(p["chat_id"])
    emu.check_bot_can_send(chat)
    if not chat.is_forum:
        raise bad_request("the chat is not a forum")
    if not emu.world.member(chat, emu.bot.id).can("can_manage_topics"):
        raise bad_request("not enough rights to manage topics")
    return chat


def _topic(chat: Chat, p: JsonDict) -> Topic:
    topic = chat.topics.get(p["message_thread_id"])
    if topic is None or topic.deleted:
        raise bad_request("TOPIC_ID_INVALID")
    return topic


def open_topic(
    emu: EmulatorCore,
    chat: Chat,
    name: str,
    creator_id: int,
    icon_color: int | None = None,
    icon_custom_emoji_id: str | None = None,
) -> Topic:
    """Create a topic and its ``forum_topic_created`` service message (shared with users)."""
    color = icon_color if icon_color is not None else TOPIC_COLORS[len(chat.topics) % 6]
    thread_id = chat.next_message_id()
    topic = Topic(thread_id, name, color, icon_custom_emoji_id)
    chat.topics[thread_id] = topic
    created: JsonDict = {"name": name, "icon_color": color}
    if icon_custom_emoji_id:
        created["icon_custom_emoji_id"] = icon_custom_emoji_id
    _service(emu, chat, topic, creator_id, {"forum_topic_created": created}, thread_id)
    emu.events.emit("topic", chat_id=chat.id, action="created", topic=topic.to_api())
    return topic


def _service(
    emu: EmulatorCore,
    chat: Chat,
    topic: Topic,
    sender_id: int,
    content: JsonDict,
    message_id: int | None = None,
) -> None:
    """Post a topic service message; with ``message_id`` it is the topic's own first message."""
    sender = emu.world.users[sender_id]
    if message_id is None:
        emu.post(chat, sender, content, thread=topic)
        return
    api: JsonDict = {
        "message_id": message_id,
        "from": sender.to_api(),
        "date": emu.now(),
        "chat": chat.to_api(),
        "message_thread_id": message_id,
        "is_topic_message": True,
        **content,
    }
    chat.messages[message_id] = StoredMessage(api=api, sender_id=sender_id, thread_id=message_id)
    emu.events.emit("message", chat_id=chat.id, message=api)
    if sender_id != emu.bot.id and emu.world.member(chat, emu.bot.id).present:
        emu.updates.push("message", dict(api))


async def create_forum_topic(emu: EmulatorCore, p: JsonDict) -> JsonDict:
    chat = _forum(emu, p)
    topic = open_topic(
        emu, chat, p["name"], emu.bot.id, p.get("icon_color"), p.get("icon_custom_emoji_id")
    )
    return topic.to_api()


async def edit_forum_topic(emu: EmulatorCore, p: JsonDict) -> bool:
    chat = _forum(emu, p)
    topic = _topic(chat, p)
    edited: JsonDict = {}
    if p.get("name") and p["name"] != topic.name:
        topic.name = edited["name"] = p["name"]
    emoji = p.get("icon_custom_emoji_id")
    if emoji is not None and emoji != (topic.icon_custom_emoji_id or ""):
        topic.icon_custom_emoji_id = emoji or None
        edited["icon_custom_emoji_id"] = emoji
    if not edited:
        raise bad_request("TOPIC_NOT_MODIFIED")
    _service(emu, chat, topic, emu.bot.id, {"forum_topic_edited": edited})
    emu.events.emit("topic", chat_id=chat.id, action="edited", topic=topic.to_api())
    return True


def set_topic_closed(emu: EmulatorCore, chat: Chat, topic: Topic, closed: bool, by: int) -> None:
    """Close or reopen a topic with its service message (shared with users)."""
    if topic.closed == closed:
        raise bad_request("TOPIC_NOT_MODIFIED")
    topic.closed = closed
    key = "forum_topic_closed" if closed else "forum_topic_reopened"
    _service(emu, chat, topic, by, {key: {}})
    action = "closed" if closed else "reopened"
    emu.events.emit("topic", chat_id=chat.id, action=action, topic=topic.to_api())


async def close_forum_topic(emu: EmulatorCore, p: JsonDict) -> bool:
    chat = _forum(emu, p)
    set_topic_closed(emu, chat, _topic(chat, p), True, emu.bot.id)
    return True


async def reopen_forum_topic(emu: EmulatorCore, p: JsonDict) -> bool:
    chat = _forum(emu, p)
    set_topic_closed(emu, chat, _topic(chat, p), False, emu.bot.id)
    return True


def remove_topic(emu: EmulatorCore, chat: Chat, topic: Topic) -> None:
    """Delete a topic with all its messages; later sends there fail "message thread not found"."""
    topic.deleted = True
    for stored in chat.live_messages(topic.thread_id):
        stored.deleted = True
    emu.events.emit("topic", chat_id=chat.id, action="deleted", topic=topic.to_api())


async def delete_forum_topic(emu: EmulatorCore, p: JsonDict) -> bool:
    chat = _forum(emu, p)
    remove_topic(emu, chat, _topic(chat, p))
    return True


async def set_chat_menu_button(emu: EmulatorCore, p: JsonDict) -> bool:
    button = p.get("menu_button") or {"type": "default"}
    if "chat_id" in p:
        emu.chat_or_400(p["chat_id"]).menu_button = button
    else:
        emu.profile.default_menu_button = button
    return True


async def get_chat_menu_button(emu: EmulatorCore, p: JsonDict) -> JsonDict:
    if "chat_id" in p:
        chat = emu.chat_or_400(p["chat_id"])
        if chat.menu_button is not None:
            return chat.menu_button
    return emu.profile.default_menu_button


HANDLERS: dict[str, Handler] = {
    "getChat": get_chat,
    "getChatMember": get_chat_member,
    "getChatAdministrators": get_chat_administrators,
    "getChatMemberCount": get_chat_member_count,
    "createForumTopic": create_forum_topic,
    "editForumTopic": edit_forum_topic,
    "closeForumTopic": close_forum_topic,
    "reopenForumTopic": reopen_forum_topic,
    "deleteForumTopic": delete_forum_topic,
    "setChatMenuButton": set_chat_menu_button,
    "getChatMenuButton": get_chat_menu_button,
}
