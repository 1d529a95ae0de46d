"""Errors the emulator answers with, shaped like Telegram's so PTB raises the same exceptions.

PTB maps the HTTP status of a failed call to its exception classes (400 → BadRequest,
403 → Forbidden, 409 → Conflict, 429 with ``parameters.retry_after`` → RetryAfter, others →
NetworkError) and shows ``description`` as the message. Handlers raise :class:`ApiError` and the
HTTP layer turns it into exactly that JSON body.
"""

from __future__ import annotations

from typing import Any

JsonDict = dict[str, Any]


class ApiError(Exception):
    """A Bot API call that Telegram would refuse; ``description`` is Telegram's wording."""

    def __init__(self, status: int, description: str, parameters: JsonDict | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters

    def to_json(self) -> JsonDict:
        """The response body Telegram sends for a refused call."""
        body: JsonDict = {"ok": False, "error_code": self.status, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def bad_request(reason: str) -> ApiError:
    """A 400 answer; ``reason`` is the text after Telegram's "Bad Request: " prefix."""
    return ApiError(400, f"Bad Request: {reason}")


def forbidden(reason: str) -> ApiError:
    """A 403 answer; ``reason`` is the text after Telegram's "Forbidden: " prefix."""
    return ApiError(403, f"Forbidden: {reason}")


def not_found() -> ApiError:
    """Telegram's answer to an unknown method name."""
    return ApiError(404, "Not Found")


def conflict(reason: str) -> ApiError:
    """A 409 answer, e.g. getUpdates while a webhook is set."""
    return ApiError(409, f"Conflict: {reason}")


def too_many_requests(retry_after: int) -> ApiError:
    """A 429 flood-wait answer; PTB raises ``RetryAfter(retry_after)`` from its parameters."""
    return ApiError(
        429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after}
    )


class SandboxError(Exception):
    """A misuse of the control API by a test or the chat page (not a Bot API refusal).

    Example: pressing a button that is not on the message. It is raised to the caller rather
    than answered to the bot, because it means the test itself is wrong.
    """
