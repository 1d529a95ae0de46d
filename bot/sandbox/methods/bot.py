"""Bot API methods about the bot itself: identity, updates, webhooks, commands, query answers."""

from __future__ import annotations

import json
from typing import Any

from bot.sandbox.core import QUERY_TOO_OLD, EmulatorCore, Handler
from bot.sandbox.errors import bad_request
from bot.sandbox.updates import Webhook

JsonDict = dict[str, Any]


async def get_me(emu: EmulatorCore, p: JsonDict) -> JsonDict:
    return {
        **emu.bot.to_api(),
        "can_join_groups": True,
        "can_read_all_group_messages": True,
        "supports_inline_queries": True,
        "can_connect_to_business": False,
        "has_main_web_app": False,
    }


async def get_updates(emu: EmulatorCore, p: JsonDict) -> list[JsonDict]:
    timeout = min(float(p.get("timeout", 0)), emu.max_poll_timeout)
    return await emu.updates.get_updates(
        offset=p.get("offset", 0),
        limit=p.get("limit", 100),
        wait_seconds=timeout,
        allowed=p.get("allowed_updates"),
    )


async def set_webhook(emu: EmulatorCore, p: JsonDict) -> bool:
    url: str = p["url"]
    if url and not url.startswith(("http://", "https://")):
        raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
    emu.updates.set_allowed(p.get("allowed_updates"))
    hook = Webhook(url, p.get("secret_token"), p.get("max_connections", 40)) if url else None
    emu.updates.set_webhook(hook, bool(p.get("drop_pending_updates")))
    return True


async def delete_webhook(emu: EmulatorCore, p: JsonDict) -> bool:
    emu.updates.set_webhook(None, bool(p.get("drop_pending_updates")))
    return True


async def get_webhook_info(emu: EmulatorCore, p: JsonDict) -> JsonDict:
    return emu.updates.webhook_info()


def scope_key(emu: EmulatorCore, scope: JsonDict | None) -> str:
    """A canonical key for a BotCommandScope (``@username`` chat ids resolved to numbers)."""
    normalized = dict(scope or {"type": "default"})
    if "chat_id" in normalized:
        normalized["chat_id"] = emu.chat_or_400(normalized["chat_id"]).id
    return json.dumps(normalized, sort_keys=True)


async def set_my_commands(emu: EmulatorCore, p: JsonDict) -> bool:
    key = (scope_key(emu, p.get("scope")), p.get("language_code", ""))
    emu.profile.commands[key] = [dict(command) for command in p["commands"]]
    emu.events.emit("commands", scope=key[0], language_code=key[1], commands=p["commands"])
    return True


async def get_my_commands(emu: EmulatorCore, p: JsonDict) -> list[JsonDict]:
    key = (scope_key(emu, p.get("scope")), p.get("language_code", ""))
    return emu.profile.commands.get(key, [])


async def delete_my_commands(emu: EmulatorCore, p: JsonDict) -> bool:
    key = (scope_key(emu, p.get("scope")), p.get("language_code", ""))
    emu.profile.commands.pop(key, None)
    emu.events.emit("commands", scope=key[0], language_code=key[1], commands=[])
    return True


def _text_setting(kind: str) -> tuple[Handler, Handler]:
    """setMyName/getMyName and the description pairs: one text per language."""

    async def set_text(emu: EmulatorCore, p: JsonDict) -> bool:
        emu.profile.texts[(kind, p.get("language_code", ""))] = p.get(kind, "")
        return True

    async def get_text(emu: EmulatorCore, p: JsonDict) -> JsonDict:
        language = p.get("language_code", "")
        texts = emu.profile.texts
        value = texts.get((kind, language)) or texts.get((kind, ""), "")
        if kind == "name" and not value:
            value = emu.bot.first_name
        return {kind: value}

    return set_text, get_text


async def answer_callback_query(emu: EmulatorCore, p: JsonDict) -> bool:
    state = emu.callbacks.get(p["callback_query_id"])
    if state is None or state.answer is not None:
        raise bad_request(QUERY_TOO_OLD)
    state.answer = {k: p[k] for k in ("text", "show_alert", "url", "cache_time") if k in p}
    emu.events.emit(
        "callback_answer",
        chat_id=state.chat_id,
        user_id=state.user_id,
        callback_query_id=p["callback_query_id"],
        answer=state.answer,
    )
    return True


async def answer_inline_query(emu: EmulatorCore, p: JsonDict) -> bool:
    state = emu.inline_queries.get(p["inline_query_id"])
    if state is None or state.answer is not None:
        raise bad_request(QUERY_TOO_OLD)
    ids = [result["id"] for result in p["results"]]
    if len(ids) != len(set(ids)):
        raise bad_request("RESULT_ID_DUPLICATE")
    state.answer = {k: v for k, v in p.items() if k != "inline_query_id"}
    emu.events.emit(
        "inline_answer",
        user_id=state.user_id,
        inline_query_id=p["inline_query_id"],
        answer=state.answer,
    )
    return True


HANDLERS: dict[str, Handler] = {
    "getMe": get_me,
    "getUpdates": get_updates,
    "setWebhook": set_webhook,
    "deleteWebhook": delete_webhook,
    "getWebhookInfo": get_webhook_info,
    "setMyCommands": set_my_commands,
    "getMyCommands": get_my_commands,
    "deleteMyCommands": delete_my_commands,
    "answerCallbackQuery": answer_callback_query,
    "answerInlineQuery": answer_inline_query,
}
for _kind, _pair in {
    "name": ("setMyName", "getMyName"),
    "description": ("setMyDescription", "getMyDescription"),
    "short_description": ("setMyShortDescription", "getMyShortDescription"),
}.items():
    HANDLERS[_pair[0]], HANDLERS[_pair[1]] = _text_setting(_kind)
