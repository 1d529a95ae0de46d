"""The README's configuration and policy examples are what the program accepts."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from bot.circulation import load_policy
from bot.settings import load_settings

README = Path(__file__).resolve().parents[2] / "README.md"


def toml_blocks() -> list[str]:
    return re.findall(r"```toml\n(.*?)```", README.read_text(encoding="utf-8"), re.S)


def test_the_configuration_example_loads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    for name in [name for name in os.environ if name.startswith("BIBLIOBOT_")]:
        monkeypatch.delenv(name)
    example = next(block for block in toml_blocks() if "[telegram]" in block)
    config = tmp_path / "bibliobot.toml"
    config.write_text(example, encoding="utf-8")
    settings = load_settings(config)
    assert settings.telegram.staff_chat_id == -1001234567890
    assert settings.library.policy == "cbnem"


def test_the_policy_example_changes_only_what_it_names(tmp_path: Path) -> None:
    example = next(block for block in toml_blocks() if "extends" in block)
    path = tmp_path / "policy.toml"
    path.write_text(example, encoding="utf-8")
    policy, preset = load_policy(str(path)), load_policy("cbnem")
    assert policy.loans.days.adult.book == 21 != preset.loans.days.adult.book
    assert policy.holds.pickup_days == 5
    assert policy.fines == preset.fines
