"""Where settings come from: configure(), files, environment, and their precedence."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from reinhardt_db.conf import (
    ENV_DATABASE_URL,
    ENV_SETTINGS,
    Settings,
    configure,
    get_settings,
    load_settings,
    on_settings_changed,
    read_settings,
    reset_settings,
    settings_configured,
)
from reinhardt_db.exceptions import ImproperlyConfigured

PYPROJECT = """
[project]
name = "myproject"

[tool.reinhardt]
installed_apps = ["blog", "accounts"]

[tool.reinhardt.databases]
default = "sqlite:///from_pyproject.db"

[tool.reinhardt.databases.replica]
url = "postgresql://ro@10.0.0.2/app"
pool = {max_size = 20}
"""

REINHARDT_TOML = """
installed_apps = ["shop"]

[databases.default]
url = "sqlite:///from_reinhardt_toml.db"
pool = {max_size = 3, acquire_timeout = 2.5}
"""


def default_url() -> str:
    return get_settings().databases["default"].url


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


# -- sources ---------------------------------------------------------------


def test_with_nothing_the_default_is_a_sqlite_file_in_the_working_directory() -> None:
    settings = get_settings()
    assert settings == Settings()
    assert default_url() == "sqlite:///db.sqlite3"
    assert settings.installed_apps == []


def test_pyproject_tool_reinhardt(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", PYPROJECT)
    settings = get_settings()
    assert settings.installed_apps == ["blog", "accounts"]
    assert default_url() == "sqlite:///from_pyproject.db"
    assert settings.databases["replica"].pool.max_size == 20
    assert settings.databases["replica"].parsed.host == "10.0.0.2"


def test_pyproject_without_tool_reinhardt_gives_the_defaults(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", '[project]\nname = "x"\n[tool.ruff]\nline-length = 100\n')
    assert get_settings() == Settings()


def test_reinhardt_toml(tmp_path: Path) -> None:
    write(tmp_path / "reinhardt.toml", REINHARDT_TOML)
    settings = get_settings()
    assert settings.installed_apps == ["shop"]
    assert default_url() == "sqlite:///from_reinhardt_toml.db"
    assert settings.databases["default"].pool.acquire_timeout == 2.5


def test_reinhardt_toml_wins_over_pyproject(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", PYPROJECT)
    write(tmp_path / "reinhardt.toml", REINHARDT_TOML)
    assert get_settings().installed_apps == ["shop"]


def test_reinhardt_settings_env_wins_over_local_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path / "pyproject.toml", PYPROJECT)
    write(tmp_path / "reinhardt.toml", REINHARDT_TOML)
    (tmp_path / "conf").mkdir()
    write(tmp_path / "conf" / "prod.toml", 'installed_apps = ["prod"]\n')
    monkeypatch.setenv(ENV_SETTINGS, "conf/prod.toml")
    assert get_settings().installed_apps == ["prod"]
    assert default_url() == "sqlite:///db.sqlite3"


def test_reinhardt_settings_may_name_a_pyproject(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = tmp_path / "elsewhere"
    other.mkdir()
    write(other / "pyproject.toml", PYPROJECT)
    monkeypatch.setenv(ENV_SETTINGS, str(other / "pyproject.toml"))
    assert get_settings().installed_apps == ["blog", "accounts"]


def test_empty_env_vars_are_ignored(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path / "reinhardt.toml", REINHARDT_TOML)
    monkeypatch.setenv(ENV_SETTINGS, "")
    monkeypatch.setenv(ENV_DATABASE_URL, "")
    assert default_url() == "sqlite:///from_reinhardt_toml.db"


# -- REINHARDT_DATABASE_URL ------------------------------------------------


def test_database_url_env_replaces_the_default_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_DATABASE_URL, "postgresql://app@db/app")
    assert default_url() == "postgresql://app@db/app"


def test_database_url_env_keeps_the_other_options_of_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path / "reinhardt.toml", REINHARDT_TOML)
    monkeypatch.setenv(ENV_DATABASE_URL, "mysql://root@127.0.0.1/shop")
    default = get_settings().databases["default"]
    assert default.url == "mysql://root@127.0.0.1/shop"
    assert default.pool.max_size == 3


def test_database_url_env_leaves_other_aliases_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path / "pyproject.toml", PYPROJECT)
    monkeypatch.setenv(ENV_DATABASE_URL, "sqlite://:memory:")
    settings = get_settings()
    assert settings.databases["default"].url == "sqlite://:memory:"
    assert settings.databases["replica"].url == "postgresql://ro@10.0.0.2/app"


def test_bad_database_url_env_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_DATABASE_URL, "postgress://u@h/db")
    with pytest.raises(
        ImproperlyConfigured, match=r"^REINHARDT_DATABASE_URL: unknown database URL"
    ):
        get_settings()


# -- configure() -----------------------------------------------------------


def test_configure_wins_over_files_and_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path / "reinhardt.toml", REINHARDT_TOML)
    monkeypatch.setenv(ENV_DATABASE_URL, "postgresql://app@db/app")
    settings = configure(databases={"default": "sqlite://:memory:"}, installed_apps=["blog"])
    assert get_settings() is settings
    assert default_url() == "sqlite://:memory:"
    assert settings.installed_apps == ["blog"]


def test_configure_again_replaces() -> None:
    configure(installed_apps=["a"])
    configure(installed_apps=["b"])
    assert get_settings().installed_apps == ["b"]
    assert default_url() == "sqlite:///db.sqlite3"


def test_configure_accepts_a_settings_object() -> None:
    settings = Settings(installed_apps=["blog"])
    assert configure(settings) is settings
    assert get_settings() is settings
    with pytest.raises(TypeError):
        configure(settings, installed_apps=["x"])


def test_configure_with_bad_settings_keeps_the_old_ones() -> None:
    good = configure(installed_apps=["blog"])
    with pytest.raises(ImproperlyConfigured, match="databse: unknown setting"):
        configure(databse={})
    assert get_settings() is good


def test_settings_configured_and_reset(tmp_path: Path) -> None:
    assert not settings_configured()
    configure(installed_apps=["blog"])
    assert settings_configured()
    reset_settings()
    assert not settings_configured()
    write(tmp_path / "reinhardt.toml", REINHARDT_TOML)
    assert get_settings().installed_apps == ["shop"]
    assert settings_configured()


def test_get_settings_reads_once(tmp_path: Path) -> None:
    write(tmp_path / "reinhardt.toml", REINHARDT_TOML)
    first = get_settings()
    write(tmp_path / "reinhardt.toml", 'installed_apps = ["changed"]\n')
    assert get_settings() is first
    reset_settings()
    assert get_settings().installed_apps == ["changed"]


def test_concurrent_first_use_reads_one_settings_object(tmp_path: Path) -> None:
    write(tmp_path / "reinhardt.toml", REINHARDT_TOML)
    seen: list[Settings] = []
    threads = [threading.Thread(target=lambda: seen.append(get_settings())) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({id(settings) for settings in seen}) == 1


# -- load_settings() -------------------------------------------------------


def test_load_settings_reads_an_explicit_file_and_installs_it(tmp_path: Path) -> None:
    write(tmp_path / "reinhardt.toml", REINHARDT_TOML)
    path = write(tmp_path / "other.toml", 'installed_apps = ["other"]\n')
    settings = load_settings(path)
    assert get_settings() is settings
    assert settings.installed_apps == ["other"]


def test_load_settings_database_url_wins_over_env_and_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path / "reinhardt.toml", REINHARDT_TOML)
    monkeypatch.setenv(ENV_DATABASE_URL, "postgresql://env@db/app")
    settings = load_settings(database_url="sqlite:///cli.db")
    assert settings.databases["default"].url == "sqlite:///cli.db"
    assert settings.databases["default"].pool.max_size == 3
    assert settings.installed_apps == ["shop"]


def test_load_settings_with_nothing_finds_files_like_get_settings(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", PYPROJECT)
    assert load_settings().installed_apps == ["blog", "accounts"]


def test_read_settings_installs_nothing(tmp_path: Path) -> None:
    path = write(tmp_path / "other.toml", 'installed_apps = ["other"]\n')
    assert read_settings(path).installed_apps == ["other"]
    assert not settings_configured()


# -- errors ----------------------------------------------------------------


def test_missing_settings_file_from_env_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_SETTINGS, "nowhere/settings.toml")
    with pytest.raises(ImproperlyConfigured) as info:
        get_settings()
    message = str(info.value)
    assert message.startswith("REINHARDT_SETTINGS: ")
    assert "nowhere/settings.toml" in message
    assert "does not exist" in message


def test_missing_explicit_settings_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ImproperlyConfigured, match=r"settings file .*missing\.toml does not exist"):
        load_settings(tmp_path / "missing.toml")


@pytest.mark.parametrize("name", ["reinhardt.toml", "pyproject.toml"])
def test_bad_toml_names_the_file_and_line(tmp_path: Path, name: str) -> None:
    write(tmp_path / name, "[tool.reinhardt]\ninstalled_apps = blog\nrouters = []\n")
    with pytest.raises(ImproperlyConfigured) as info:
        get_settings()
    message = str(info.value)
    assert name in message
    assert "invalid TOML" in message
    assert "line 2" in message


def test_bad_setting_in_pyproject_names_the_file_table_and_key(tmp_path: Path) -> None:
    write(
        tmp_path / "pyproject.toml",
        '[tool.reinhardt.databases.replica]\nurl = "sqlite:///r.db"\n'
        "pool = {max_size = 10, min_size = 20}\n",
    )
    with pytest.raises(ImproperlyConfigured) as info:
        get_settings()
    message = str(info.value)
    assert f"{tmp_path / 'pyproject.toml'} [tool.reinhardt]: " in message
    assert "databases.replica.pool.min_size: min_size (20) is greater than max_size (10)" in message


def test_unknown_setting_in_reinhardt_toml(tmp_path: Path) -> None:
    write(tmp_path / "reinhardt.toml", 'installed_app = ["blog"]\n')
    with pytest.raises(ImproperlyConfigured) as info:
        get_settings()
    assert str(info.value) == (
        f"{tmp_path / 'reinhardt.toml'}: installed_app: unknown setting "
        "(did you mean 'installed_apps'?); allowed here: databases, installed_apps, routers, "
        "pagination_secret"
    )


def test_tool_reinhardt_must_be_a_table(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", '[tool]\nreinhardt = "yes"\n')
    with pytest.raises(ImproperlyConfigured, match=r"\[tool.reinhardt\] must be a table"):
        get_settings()


def test_bad_database_url_argument_is_named() -> None:
    with pytest.raises(ImproperlyConfigured, match=r"^database_url: the URL names no database"):
        load_settings(database_url="postgresql://u@h")


# -- listeners -------------------------------------------------------------


def test_listeners_hear_configure_load_and_reset(tmp_path: Path) -> None:
    heard: list[list[str] | None] = []

    def listener() -> None:
        heard.append(get_settings().installed_apps if settings_configured() else None)

    remove = on_settings_changed(listener)
    try:
        get_settings()  # a lazy first read replaces nothing
        assert heard == []
        configure(installed_apps=["a"])
        load_settings(write(tmp_path / "s.toml", 'installed_apps = ["b"]\n'))
        reset_settings()
        assert heard == [["a"], ["b"], None]
    finally:
        remove()
    configure(installed_apps=["c"])
    assert len(heard) == 3
