"""The outbox dispatcher's hook for staff cards whose topic was lost before they went out.

An appointment or interlibrary card Telegram refused when the request was made waits in the
outbox, addressed to its topic ("Appuntamenti", "Interlibrary loan"). If a librarian deletes
that topic meanwhile, sending it fails with a 400; without this hook the dispatcher would
record it undeliverable and the request would be lost to staff. The hook makes the topic again
(once: :mod:`bot.handlers.staff_topics`) and names it; the dispatcher addresses the card there
and sends it at once. Other notices are left alone.
"""

from __future__ import annotations

from telegram.error import BadRequest

from bot.handlers import appointment_staff, interlibrary_staff
from bot.handlers.context import BotApplication, BotContext
from bot.handlers.staff_topics import topic_deleted
from bot.reminders.dispatcher import NewThread, Rethread
from bot.reminders.outgoing import OutgoingMessage
from db.outbox_delivery import ClaimedNotice

REPLACERS = {
    appointment_staff.CARD_KIND: appointment_staff.replace_topic,
    interlibrary_staff.CARD_KIND: interlibrary_staff.replace_topic,
}


def rethreader(app: BotApplication) -> Rethread:
    """The hook for ``app``'s dispatcher (it needs the application's bot, store and lock)."""

    async def rethread(
        notice: ClaimedNotice, message: OutgoingMessage, error: BadRequest
    ) -> NewThread | None:
        replace = REPLACERS.get(notice.kind)
        if replace is None or not topic_deleted(error):
            return None
        if notice.chat_id is None or message.thread_id is None:
            return None
        return NewThread(await replace(BotContext(app), notice.chat_id, message.thread_id))

    return rethread
