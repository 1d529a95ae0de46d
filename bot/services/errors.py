"""Refusals: an operation the rules (or the data) do not allow, with a stable reason code."""

from __future__ import annotations

from bot.circulation import Decision


class Refusal(Exception):
    """Raised inside a transaction, so that nothing is written.

    ``code`` is a stable snake_case word (INTERFACE.md: ``{"error": CODE}``): one of the
    circulation domain's reasons (``too_early``, ``on_hold`` ...) or one of the service's own
    (``unknown_card``, ``unknown_item`` ...). ``message`` is for staff at the desk, in English;
    patrons get a translated sentence from the code (``bot.i18n.reason_message``).
    """

    def __init__(
        self, code: str, message: str, *, rule: str | None = None, detail: str | None = None
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.rule = rule
        self.detail = detail

    @classmethod
    def of(cls, decision: Decision, action: str) -> Refusal:
        """A refused decision of the domain, as a refusal."""
        code = decision.reason.value if decision.reason is not None else "refused"
        parts = [f"{action} refused: {code.replace('_', ' ')}"]
        if decision.detail:
            parts.append(f"({decision.detail})")
        if decision.rule:
            parts.append(f"[rule {decision.rule}]")
        return cls(code, " ".join(parts), rule=decision.rule, detail=decision.detail)
