"""Settings: TOML file, environment overrides, and one-line errors naming the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.settings import ConfigError, load_settings


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import os

    for name in list(os.environ):
        if name.startswith("BIBLIOBOT_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)  # no ./bibliobot.toml unless a test writes one


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_without_any_file() -> None:
    settings = load_settings()
    assert settings.database.path == Path("bibliobot.sqlite3")
    assert settings.library.policy == "cbnem"
    assert settings.library.timezone == "Europe/Rome"
    assert settings.library.default_language == "it"
    assert settings.library.languages == ["it", "en"]
    assert settings.telegram.base_url == "https://api.telegram.org/bot"
    assert settings.reminders.dispatch_interval_seconds == 30


def test_values_come_from_the_toml_file(tmp_path: Path) -> None:
    config = _write(
        tmp_path / "custom.toml",
        '[telegram]\ntoken = "123:abc"\nstaff_chat_id = -10042\nadmin_user_ids = [7, 8]\n'
        '[database]\npath = "lib.sqlite3"\n[library]\npolicy = "ginestra"\n',
    )
    settings = load_settings(config)
    assert settings.telegram.token == "123:abc"
    assert settings.telegram.staff_chat_id == -10042
    assert settings.telegram.admin_user_ids == [7, 8]
    assert settings.database.path == Path("lib.sqlite3")
    assert settings.library.policy == "ginestra"


def test_environment_overrides_the_file_key_by_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = _write(
        tmp_path / "c.toml", '[telegram]\ntoken = "1:file"\nbase_url = "http://file.example/bot"\n'
    )
    monkeypatch.setenv("BIBLIOBOT_TELEGRAM__BASE_URL", "http://127.0.0.1:8081/bot")
    monkeypatch.setenv("BIBLIOBOT_DATABASE__PATH", "/tmp/other.sqlite3")
    monkeypatch.setenv("BIBLIOBOT_TELEGRAM__ADMIN_USER_IDS", "[1, 2]")
    settings = load_settings(config)
    assert settings.telegram.base_url == "http://127.0.0.1:8081/bot"
    assert settings.telegram.token == "1:file"  # the rest of the section stays
    assert settings.database.path == Path("/tmp/other.sqlite3")
    assert settings.telegram.admin_user_ids == [1, 2]


def test_config_file_from_environment_then_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _write(tmp_path / "bibliobot.toml", '[library]\npolicy = "ginestra"\n')
    assert load_settings().library.policy == "ginestra"
    elsewhere = _write(tmp_path / "elsewhere.toml", '[library]\ntimezone = "Europe/London"\n')
    monkeypatch.setenv("BIBLIOBOT_CONFIG", str(elsewhere))
    settings = load_settings()
    assert settings.library.timezone == "Europe/London"
    assert settings.library.policy == "cbnem"  # ./bibliobot.toml is not read any more


@pytest.mark.parametrize(
    ("toml", "env", "expected"),
    [
        ('[library]\ntimezone = "Mars/Olympus"\n', {}, "[library] timezone: unknown time zone"),
        ('[library]\npolicy = "strict"\n', {}, "[library] policy: must be a preset"),
        ('[library]\nlanguages = ["it", "de"]\n', {}, "[library] languages: choose among it, en"),
        ('[library]\ndefault_language = "en"\nlanguages = ["it"]\n', {}, "[library]"),
        ('[telegram]\nbase_url = "ftp://x"\n', {}, "[telegram] base_url: must start with http"),
        ('[telegram]\ntoken = "nocolon"\n', {}, "[telegram] token: does not look like"),
        ('[telegram]\nstaff_chat_id = "group"\n', {}, "[telegram] staff_chat_id:"),
        (
            "[reminders]\ndispatch_interval_seconds = 0\n",
            {},
            "[reminders] dispatch_interval_seconds",
        ),
        ("[reminders]\ndue_offsets_days = [-1]\n", {}, "[reminders] due_offsets_days"),
        (
            '[reminders]\ncycle_hours = {holds = "22:00"}\n',
            {},
            "[reminders]: the holds cycle's hour 22:00 is inside the quiet hours 21:00-08:00",
        ),
        ('[library]\npolcy = "cbnem"\n', {}, "[library] polcy: unknown key"),
        ("[libary]\n", {}, "[libary]: unknown key"),
        ("", {"BIBLIOBOT_TELEGRAM__STAFF_CHAT_ID": "abc"}, "BIBLIOBOT_TELEGRAM__STAFF_CHAT_ID"),
    ],
)
def test_a_bad_value_is_one_line_naming_the_key(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    toml: str,
    env: dict[str, str],
    expected: str,
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    config = _write(tmp_path / "bad.toml", toml)
    with pytest.raises(ConfigError) as caught:
        load_settings(config)
    message = str(caught.value)
    assert message.startswith("config error: ")
    assert expected in message
    assert "\n" not in message


def test_broken_toml_names_the_file(tmp_path: Path) -> None:
    config = _write(tmp_path / "broken.toml", "[telegram\ntoken = 1\n")
    with pytest.raises(ConfigError, match=r"broken\.toml: not valid TOML"):
        load_settings(config)


def test_missing_config_file_is_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigError, match="--config: no such file"):
        load_settings(tmp_path / "nope.toml")
    monkeypatch.setenv("BIBLIOBOT_CONFIG", str(tmp_path / "missing.toml"))
    with pytest.raises(ConfigError, match="BIBLIOBOT_CONFIG: no such file"):
        load_settings()
