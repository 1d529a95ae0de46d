"""Appointments with the library: services, their weekly slots and the rules of booking.

Pure: nothing here reads the clock, the store or Telegram. The service layer
(:mod:`bot.services.appointments`) loads a service, its weekly slots, the library calendar and
how many places are taken, and asks these functions what may be booked or cancelled.
"""

from __future__ import annotations

from bot.appointments.ics import appointment_ics
from bot.appointments.slots import (
    AppointmentReason,
    ServiceRules,
    Slot,
    WeeklySlot,
    bookable_days,
    bookable_slots,
    booking_refusal,
    can_cancel,
    reminder_time,
)

__all__ = [
    "AppointmentReason",
    "ServiceRules",
    "Slot",
    "WeeklySlot",
    "appointment_ics",
    "bookable_days",
    "bookable_slots",
    "booking_refusal",
    "can_cancel",
    "reminder_time",
]
