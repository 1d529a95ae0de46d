"""Talking to a librarian, the patron's side: ``/librarian``, the theme, and the relay.

``/librarian`` (or the "talk to a librarian" button of ``/help`` and of refusals) asks the
theme; from then on everything the patron sends in the private chat — text, photos, documents,
voice, stickers — goes to her topic in the staff group (copyMessage), and every edit follows.
While a conversation is open these handlers run before the others (handler group -1), so her
messages are not taken for catalog searches; ``/cancel`` ends the conversation. A message sent
while the routed branch is closed is still relayed, and the patron is told when staff will
read it. A flood (more than 20 messages a minute) is refused, in words. A message Telegram
refuses to relay (an outage) is kept, the patron is told, and the relay is tried again a little
later (the JobQueue), so it reaches staff without her writing again; should Telegram fail for
longer than those tries, she is told it is held up but kept, a sweep every few minutes goes on
relaying it (as it does for what a restart left unrelayed), and she hears when it gets through.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import cast

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.error import BadRequest, TelegramError
from telegram.ext import (
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot.handlers import render
from bot.handlers.context import (
    BotApplication,
    BotContext,
    callback,
    int_part,
    is_private,
    keyboard,
    now,
    parse_callback,
    who,
)
from bot.handlers.handoff_relay import (
    content_of,
    ensure_header,
    ensure_topic,
    name_of_theme,
    post_in_topic,
    reopen_topic,
    theme_name,
    topic_gone,
)
from bot.handlers.handoff_state import RETRY_ATTEMPTS, SWEEP_FIRST
from bot.handlers.staff_access import staff_chat_id, staff_translator
from bot.i18n import Translator
from bot.services import handoff
from bot.services.errors import Refusal
from db.handoff import ConversationRow, MessageRow

log = logging.getLogger("bibliobot.handoff")

HANDOFF_GROUP = -1  # before the conversations and the catalog search (group 0)
SWEEP_JOB = "handoff-relay-owed"


def end_markup(t: Translator) -> InlineKeyboardMarkup:
    return keyboard([InlineKeyboardButton(t.gettext("✖ End the chat"), callback_data="ho:end")])


def patron_name(update: Update) -> str:
    user = update.effective_user
    if user is None:
        return "?"
    name = user.full_name
    return f"{name} (@{user.username})" if user.username else name


# -- starting ------------------------------------------------------------------------------------


async def librarian_command(update: Update, context: BotContext) -> None:
    """``/librarian`` and the button: the themes to choose from."""
    query = update.callback_query
    if query is not None:
        await query.answer()
    chat = update.effective_chat
    user = update.effective_user
    if chat is None or user is None:
        return
    _, t = await who(update, context)
    if not is_private(update):
        await context.bot.send_message(
            chat.id,
            t.gettext("To talk to a librarian, write to me in a private chat."),
            reply_markup=render.private_only_markup(t, context),
        )
        return
    if staff_chat_id(context) is None:
        await context.bot.send_message(
            chat.id,
            t.gettext(
                "Talking to a librarian from here is not available yet. "
                "Please ask at the desk of any library."
            ),
        )
        return
    if await handoff.is_banned(context.library, user.id):
        await context.bot.send_message(chat.id, banned_text(t))
        return
    current = await handoff.open_conversation(context.library, user.id)
    if current is not None:
        theme = await name_of_theme(context, t, current.theme)
        await context.bot.send_message(
            chat.id,
            t.gettext(
                "You are already talking to a librarian (subject: {theme}): just write here.",
                theme=theme,
            ),
            reply_markup=end_markup(t),
        )
        return
    themes = await handoff.themes(context.library)
    rows = [
        [
            InlineKeyboardButton(
                render.clip(theme_name(t, theme, theme.key), 40),
                callback_data=callback("ho", "t", theme.key),
            )
        ]
        for theme in themes
    ]
    await context.bot.send_message(
        chat.id,
        t.gettext(
            "What is your question about? Choose a subject, so that it reaches the right "
            "library's staff."
        ),
        reply_markup=keyboard(*rows),
    )


def banned_text(t: Translator) -> str:
    return t.gettext(
        "You cannot write to the librarians from the bot any more. Please ask at the desk."
    )


async def choose_theme(update: Update, context: BotContext) -> None:
    query = update.callback_query
    user = update.effective_user
    if query is None or user is None or query.message is None:
        return
    _, t = await who(update, context)
    parts = parse_callback(query.data, "ho", 2)
    if parts is None or parts[0] != "t" or staff_chat_id(context) is None:
        await query.answer()
        return
    try:
        conversation = await handoff.start(
            context.library,
            telegram_user_id=user.id,
            chat_id=query.message.chat.id,
            theme_key=parts[1],
            language=t.language,
            now=now(),
        )
    except Refusal as refusal:
        await query.answer()
        text = (
            banned_text(t)
            if refusal.code == "handoff_banned"
            else t.gettext("This subject is not offered any more: send /librarian to choose again.")
        )
        await context.bot.send_message(query.message.chat.id, text)
        return
    await query.answer()
    names = await render.branch_names(context.library)
    branch = conversation.branch
    theme = await name_of_theme(context, t, conversation.theme)
    if branch is not None:
        text = t.gettext(
            "Subject: {theme}. Write your question here: text, photos, documents and voice "
            "messages are all fine. A librarian of {branch} will answer in this chat.",
            theme=theme,
            branch=names.get(branch, branch),
        )
    else:
        text = t.gettext(
            "Subject: {theme}. Write your question here: text, photos, documents and voice "
            "messages are all fine. A librarian will answer in this chat.",
            theme=theme,
        )
    text += "\n\n" + t.gettext("To end the chat, send /cancel or press the button.")
    await render.reply(update, context, text, end_markup(t), edit=True)


# -- relaying ------------------------------------------------------------------------------------


async def patron_message(update: Update, context: BotContext) -> None:
    """A private message: relayed when the patron is talking to a librarian, else left to the
    other handlers (catalog search, dialogues)."""
    message = update.message
    user = update.effective_user
    if message is None or user is None or staff_chat_id(context) is None:
        return
    if in_a_dialogue(update, context):
        return  # a card number, a PIN, a request's title: never relayed to the staff group
    state = context.bot_data.handoff
    async with state.lock(user.id):
        was_open = await handoff.open_conversation(context.library, user.id)
        conversation = await handoff.reopenable(context.library, user.id, now=now())
        if conversation is None:
            return  # not talking to a librarian: a search, or a dialogue's answer
        if was_open is None:
            await reopen_topic(context, conversation)
        _, t = await who(update, context)
        clock = time.monotonic()
        if not state.allow(user.id, clock):
            if state.should_warn(user.id, clock):
                await message.reply_text(
                    t.gettext(
                        "You are sending messages very fast: wait a minute, then write again. "
                        "The messages sent meanwhile did not reach the librarians."
                    )
                )
            raise ApplicationHandlerStop
        await relay_to_staff(update, context, conversation, message, t)
    raise ApplicationHandlerStop


def in_a_dialogue(update: Update, context: BotContext) -> bool:
    """Is a dialogue of another handler (linking a card, an interlibrary request) waiting
    for this very message? Then it is that dialogue's answer, not a message for staff."""
    for handlers in context.application.handlers.values():
        for handler in handlers:
            if isinstance(handler, ConversationHandler) and handler.check_update(update):
                return True
    return False


async def relay_to_staff(
    update: Update,
    context: BotContext,
    conversation: ConversationRow,
    message: Message,
    t: Translator,
) -> None:
    """Store the message, then copy it (and any earlier one not yet relayed) to the topic."""
    library = context.library
    when = now()
    await handoff.record(
        library,
        conversation.conversation_id,
        direction="patron",
        content=content_of(message),
        sender_user_id=message.from_user.id if message.from_user else None,
        sender_name=message.from_user.full_name if message.from_user else None,
        now=when,
        patron_message_id=message.message_id,
    )
    who_name = patron_name(update)
    try:
        conversation = await deliver(context, conversation, who_name)
    except TelegramError:
        log.warning("conversation %s: relay failed", conversation.conversation_id, exc_info=True)
        schedule_retry(context, conversation.telegram_user_id, who_name)
        await message.reply_text(
            t.gettext(
                "I could not pass your message on just now. It is kept, and I will try again "
                "in a moment: you do not need to send it again."
            )
        )
        return
    await tell_through(context, conversation)
    await tell_office_hours(context, conversation, message, t)


@dataclass(frozen=True, slots=True)
class RelayRetry:
    """A relay to try again: whose messages, how the topic names her, which try this is."""

    telegram_user_id: int
    who: str
    attempt: int = 1


def schedule_retry(context: BotContext, telegram_user_id: int, who: str, attempt: int = 1) -> None:
    """Relay the patron's kept messages again a little later (the wait doubles each time), so
    that a message Telegram refused reaches the staff group without her writing again."""
    queue = cast(BotApplication, context.application).job_queue  # PTB types it generically
    name = f"handoff-retry:{telegram_user_id}"
    if queue is None or (attempt == 1 and queue.get_jobs_by_name(name)):
        return  # a retry is already on its way: it carries this message too
    delay = context.bot_data.handoff.retry_seconds * 2 ** (attempt - 1)
    queue.run_once(retry_relay, delay, data=RelayRetry(telegram_user_id, who, attempt), name=name)


async def retry_relay(context: BotContext) -> None:
    """The JobQueue's callback for :func:`schedule_retry`, under the patron's lock. After the
    last try the patron is told her messages are held up but kept; the sweep
    (:func:`relay_owed`) goes on relaying them, and she hears when they get through."""
    job = context.job
    retry = job.data if job is not None else None
    if not isinstance(retry, RelayRetry):
        return
    state = context.bot_data.handoff
    async with state.lock(retry.telegram_user_id):
        conversation = await handoff.open_conversation(context.library, retry.telegram_user_id)
        if conversation is None or not await handoff.undelivered(context.library, conversation):
            return  # delivered meanwhile (with a later message), or the chat ended: all stored
        try:
            conversation = await deliver(context, conversation, retry.who)
        except TelegramError:
            log.warning(
                "conversation %s: relay retry %s failed",
                conversation.conversation_id,
                retry.attempt,
                exc_info=True,
            )
            if retry.attempt < RETRY_ATTEMPTS:
                schedule_retry(context, retry.telegram_user_id, retry.who, retry.attempt + 1)
            else:
                await tell_held_up(context, conversation)
            return
        await tell_through(context, conversation)


async def relay_owed(context: BotContext) -> None:
    """The sweep (a repeating JobQueue job): relay, for every open conversation, the patron's
    messages the staff group has not received yet — those the quick retries gave up on while
    Telegram was failing for long, and those kept when the bot stopped before relaying them.
    Until they are through, they are tried again at every sweep: staff see them in the end.
    A conversation closed meanwhile gets them in its topic too (:func:`relay_closed`), and
    stays closed."""
    state = context.bot_data.handoff
    if staff_chat_id(context) is None:
        return
    for owed in await handoff.owed_to_staff(context.library):
        async with state.lock(owed.telegram_user_id):
            conversation = await handoff.open_conversation(context.library, owed.telegram_user_id)
            pending = (
                await handoff.undelivered(context.library, conversation) if conversation else []
            )
            if conversation is None or not pending:
                continue  # relayed meanwhile, or the chat ended
            who = pending[-1].sender_name or "?"
            try:
                conversation = await deliver(context, conversation, who)
            except TelegramError:
                log.warning("conversation %s: still not relayed", conversation.conversation_id)
                continue
            await tell_through(context, conversation)
    for closed in await handoff.closed_owed_to_staff(context.library):
        async with state.lock(closed.telegram_user_id):
            current = await handoff.conversation(context.library, closed.conversation_id)
            if current is None or current.state != "closed":
                continue  # opened again meanwhile: the open conversation's relay has them
            try:
                await relay_closed(context, current)
            except TelegramError:
                log.warning("conversation %s: still not relayed", current.conversation_id)
                continue
            await tell_through(context, current)


async def relay_closed(context: BotContext, conversation: ConversationRow) -> None:
    """Copy a closed conversation's patron messages that never reached staff into its topic
    (the bot may post in its own closed topics), without opening the conversation again: staff
    see what she wrote before it ended. Should the topic be gone (or never made), they go to
    the staff group's general chat after a line saying whose they are."""
    chat_id = staff_chat_id(context)
    assert chat_id is not None
    library = context.library
    pending = await handoff.undelivered_of(library, conversation.conversation_id)
    if not pending:
        return
    if conversation.topic_id is not None:
        try:
            conversation = await ensure_header(
                context, conversation, pending[-1].sender_name or "?"
            )
            for message in pending:
                copy_id = await copy_to_topic(context, chat_id, conversation, message)
                await handoff.relayed(
                    library,
                    message.message_id,
                    conversation_id=conversation.conversation_id,
                    staff_message_id=copy_id,
                )
            return
        except BadRequest as error:
            if not topic_gone(error):
                raise
            log.info("conversation %s: topic lost (%s)", conversation.conversation_id, error)
        pending = await handoff.undelivered_of(library, conversation.conversation_id)
    t = staff_translator(context)
    await context.bot.send_message(
        chat_id,
        t.gettext(
            "📥 Conversation #{number} with {name} (closed): what the patron wrote before it "
            "ended, which Telegram would not pass on then.",
            number=conversation.conversation_id,
            name=pending[-1].sender_name or "?",
        ),
    )
    for message in pending:
        copy_id = await copy_to_topic(context, chat_id, conversation, message, general=True)
        await handoff.relayed(
            library,
            message.message_id,
            conversation_id=conversation.conversation_id,
            staff_message_id=copy_id,
        )


async def tell_held_up(context: BotContext, conversation: ConversationRow) -> None:
    """The quick retries gave up: she is not left thinking her message went through."""
    t = context.i18n.translator(conversation.language)
    try:
        await context.bot.send_message(
            conversation.chat_id,
            t.gettext(
                "Your message has still not reached the librarians: Telegram is having "
                "trouble. It is kept, and I will pass it on as soon as I can — the librarians "
                "will see it. You do not need to send it again."
            ),
        )
    except TelegramError:
        log.warning("conversation %s: patron not told of the delay", conversation.conversation_id)
    await handoff.held_up(context.library, conversation.telegram_user_id)


async def tell_through(context: BotContext, conversation: ConversationRow) -> None:
    """Her held-up messages reached staff: she was told they were held up, so she is told
    (the store remembers what she was told, across a restart)."""
    if not await handoff.through_after_held_up(context.library, conversation.telegram_user_id):
        return
    t = context.i18n.translator(conversation.language)
    try:
        await context.bot.send_message(
            conversation.chat_id,
            t.gettext("What you wrote has now reached the librarians."),
        )
    except TelegramError:
        log.info("conversation %s: patron not told of the relay", conversation.conversation_id)


def start_sweeping(app: BotApplication) -> None:
    """Schedule :func:`relay_owed` (call once the application's store is open)."""
    queue = app.job_queue
    assert queue is not None, "python-telegram-bot[job-queue] is a dependency"
    state = app.bot_data.handoff
    queue.run_repeating(relay_owed, interval=state.sweep_seconds, first=SWEEP_FIRST, name=SWEEP_JOB)


async def deliver(context: BotContext, conversation: ConversationRow, who: str) -> ConversationRow:
    """Copy every patron message of the conversation not yet in the staff group, in order,
    after the topic's header (posted first if it is still missing); a lost topic is replaced
    once. Returns the conversation that received them."""
    chat_id = staff_chat_id(context)
    assert chat_id is not None
    library = context.library
    for attempt in range(2):
        conversation = await ensure_topic(context, conversation, who)
        assert conversation.topic_id is not None
        try:
            conversation = await ensure_header(context, conversation, who)
            for pending in await handoff.undelivered(library, conversation):
                copy_id = await copy_to_topic(context, chat_id, conversation, pending)
                await handoff.relayed(
                    library,
                    pending.message_id,
                    conversation_id=conversation.conversation_id,
                    staff_message_id=copy_id,
                )
            return conversation
        except TelegramError as error:
            if not topic_gone(error) or attempt:
                raise
            log.info("conversation %s: topic lost (%s)", conversation.conversation_id, error)
            conversation = await handoff.successor(library, conversation, now=now())
    return conversation


async def copy_to_topic(
    context: BotContext,
    chat_id: int,
    conversation: ConversationRow,
    pending: MessageRow,
    *,
    general: bool = False,
) -> int:
    """Copy one stored patron message to the topic (``general``: to the group's general chat,
    for a closed conversation whose topic is gone). A message Telegram will not copy (deleted
    by the patron meanwhile, a kind that cannot be copied) is posted as the transcript has it,
    so that it neither vanishes nor blocks the ones after it."""
    assert pending.patron_message_id is not None
    thread_id = None if general else conversation.topic_id
    assert general or thread_id is not None
    try:
        copied = await context.bot.copy_message(
            chat_id,
            from_chat_id=conversation.chat_id,
            message_id=pending.patron_message_id,
            message_thread_id=thread_id,
        )
        return copied.message_id
    except BadRequest as error:
        if topic_gone(error):
            raise
        log.info("message %s not copied (%s): posted as text", pending.message_id, error)
    t = staff_translator(context)
    text = t.gettext(
        "[The patron sent a message that cannot be shown here ({kind})] {text}",
        kind=pending.content_type,
        text=pending.text or "",
    )
    sent = await context.bot.send_message(
        chat_id, render.clip(text, 4000), message_thread_id=thread_id
    )
    return sent.message_id


async def tell_office_hours(
    context: BotContext, conversation: ConversationRow, message: Message, t: Translator
) -> None:
    """Outside the branch's opening hours (with no branch routed: while every library is
    closed): when staff will answer, once per closed stretch."""
    opens = await handoff.staff_answer_from(context.library, conversation.branch, now())
    state = context.bot_data.handoff
    if opens is None:
        state.closed_notice.pop(conversation.conversation_id, None)
        return
    if state.closed_notice.get(conversation.conversation_id) == opens:
        return
    state.closed_notice[conversation.conversation_id] = opens
    if conversation.branch is None:  # no library in particular: the first one to open
        text = t.gettext(
            "The libraries are all closed now (each has its own opening hours). Your message "
            "is kept: a librarian will read it when the first library opens, on {day} at "
            "{time}.",
            day=t.format_date(opens, "full"),
            time=t.format_time(opens),
        )
    else:
        names = await render.branch_names(context.library)
        text = t.gettext(
            "{branch} is closed now. Your message is kept: a librarian will read it when the "
            "library opens, on {day} at {time}.",
            branch=names.get(conversation.branch, conversation.branch),
            day=t.format_date(opens, "full"),
            time=t.format_time(opens),
        )
    await message.reply_text(text)


async def patron_edit(update: Update, context: BotContext) -> None:
    """The patron edited a relayed message: the copy in the topic is edited too."""
    message = update.edited_message
    user = update.effective_user
    chat_id = staff_chat_id(context)
    if message is None or user is None or chat_id is None:
        return
    stored = await handoff.message_from_patron(context.library, user.id, message.message_id)
    if stored is None or stored.direction != "patron":
        return
    content = content_of(message)
    await handoff.edited(context.library, stored.message_id, content.text, now=now())
    if stored.staff_message_id is None:
        return  # not relayed yet: the stored text is what will be copied
    try:
        if message.text is not None:
            await context.bot.edit_message_text(
                message.text,
                chat_id=chat_id,
                message_id=stored.staff_message_id,
                entities=message.entities,
            )
        else:
            await context.bot.edit_message_caption(
                chat_id=chat_id,
                message_id=stored.staff_message_id,
                caption=message.caption,
                caption_entities=message.caption_entities,
            )
    except TelegramError as error:
        log.info("edit of message %s not relayed: %s", stored.message_id, error)
    raise ApplicationHandlerStop


# -- ending and rating ---------------------------------------------------------------------------


async def end_command(update: Update, context: BotContext) -> None:
    """``/cancel`` or the button while talking to a librarian: the patron ends the chat."""
    user = update.effective_user
    chat = update.effective_chat
    if user is None or chat is None or not is_private(update):
        return
    current = await handoff.open_conversation(context.library, user.id)
    query = update.callback_query
    if current is None:
        if query is not None:
            _, t = await who(update, context)
            await query.answer(t.gettext("This chat is already over."))
            raise ApplicationHandlerStop
        return  # /cancel of something else: the other handlers' business
    if query is not None:
        await query.answer()
    _, t = await who(update, context)
    async with context.bot_data.handoff.lock(user.id):
        current = await handoff.open_conversation(context.library, user.id) or current
        current = await relay_before_ending(context, current, patron_name(update))
        await handoff.close(context.library, current.conversation_id, by="patron", now=now())
    staff_t = staff_translator(context)
    await post_in_topic(context, current, staff_t.gettext("🔚 The patron ended the conversation."))
    await context.bot.send_message(
        chat.id,
        t.gettext("Chat ended. Thank you for writing! How did it go?"),
        reply_markup=rating_markup(current.conversation_id),
    )
    raise ApplicationHandlerStop


async def relay_before_ending(
    context: BotContext, conversation: ConversationRow, who: str
) -> ConversationRow:
    """Messages still owed to staff (Telegram refused them a while ago) go to the topic before
    the chat ends, ahead of the line saying so. If Telegram refuses again, the sweep relays
    them into the closed conversation's topic later (:func:`relay_closed`)."""
    if not await handoff.undelivered(context.library, conversation):
        return conversation
    try:
        return await deliver(context, conversation, who)
    except TelegramError:
        log.warning(
            "conversation %s: ended with messages not relayed", conversation.conversation_id
        )
        return conversation


def rating_markup(conversation_id: int) -> InlineKeyboardMarkup:
    return keyboard(
        [
            InlineKeyboardButton(
                f"{n}⭐",
                callback_data=callback("ho", "r", conversation_id, n),
            )
            for n in range(1, 6)
        ]
    )


async def rate_button(update: Update, context: BotContext) -> None:
    query = update.callback_query
    user = update.effective_user
    if query is None or user is None:
        return
    _, t = await who(update, context)
    parts = parse_callback(query.data, "ho", 3)
    conversation_id = int_part(parts[1]) if parts and parts[0] == "r" else None
    rating = int_part(parts[2]) if parts and parts[0] == "r" else None
    if conversation_id is None or rating is None:
        await query.answer()
        return
    try:
        rated = await handoff.rate(
            context.library,
            telegram_user_id=user.id,
            conversation_id=conversation_id,
            rating=rating,
        )
    except Refusal:
        await query.answer(t.gettext("This rating cannot be given."), show_alert=True)
        return
    await query.answer(t.gettext("Thank you!"))
    await render.reply(
        update,
        context,
        t.gettext("Thank you for your rating: {n} out of 5.", n=rating),
        edit=True,
    )
    staff_t = staff_translator(context)
    await post_in_topic(
        context, rated, staff_t.gettext("⭐ The patron rated the conversation {n}/5.", n=rating)
    )


def register(app: BotApplication) -> None:
    """In group -1: ahead of the dialogues and the search, stopping them only when the message
    belonged to a conversation with a librarian."""
    private = filters.ChatType.PRIVATE
    app.add_handler(CommandHandler("cancel", end_command, filters=private), group=HANDOFF_GROUP)
    app.add_handler(CallbackQueryHandler(end_command, pattern=r"^ho:end$"), group=HANDOFF_GROUP)
    app.add_handler(
        MessageHandler(
            private & filters.UpdateType.MESSAGE & ~filters.COMMAND & ~filters.StatusUpdate.ALL,
            patron_message,
        ),
        group=HANDOFF_GROUP,
    )
    app.add_handler(
        MessageHandler(private & filters.UpdateType.EDITED_MESSAGE, patron_edit),
        group=HANDOFF_GROUP,
    )
    app.add_handler(CommandHandler("librarian", librarian_command))
    app.add_handler(CallbackQueryHandler(librarian_command, pattern=r"^ho:ask$"))
    app.add_handler(CallbackQueryHandler(choose_theme, pattern=r"^ho:t:"))
    app.add_handler(CallbackQueryHandler(rate_button, pattern=r"^ho:r:"))
