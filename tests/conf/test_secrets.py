"""Secrets: no repr, str, JSON dump or error message of the settings shows a password."""

from __future__ import annotations

import json
import traceback
from pathlib import Path
from typing import Any

import pytest

import reinhardt_db
from reinhardt_db.conf import (
    DatabaseSettings,
    Settings,
    get_settings,
    parse_database_url,
    read_settings,
)
from reinhardt_db.conf._secrets import hide_password
from reinhardt_db.exceptions import ImproperlyConfigured

PW = "s3cr3t-PW"
PG_URL = f"postgresql://app:{PW}@db.example:5432/app?sslmode=require"
MY_URL = f"mysql://shop:{PW}@10.0.0.3/shop?sslpassword={PW}&charset=utf8mb4"
# A secret among a URL's options the settings accept (libpq's sslpassword).
PG_KEY_URL = f"postgresql://shop:{PW}@10.0.0.3/shop?sslpassword={PW}&sslmode=require"


def everything_shown(exc: BaseException) -> str:
    """All a user can see of an error: str, repr and the traceback with its causes."""
    return "\n".join([str(exc), repr(exc), *traceback.format_exception(exc)])


def test_repr_and_str_of_settings_hide_the_password() -> None:
    settings = Settings(
        databases={
            "default": PG_URL,
            "shop": {"url": PG_KEY_URL, "options": {"password": PW, "server_settings": {"x": "1"}}},
        }
    )
    for text in (repr(settings), str(settings), f"{settings}", f"{settings!r}"):
        assert PW not in text
        assert "postgresql://app:***@db.example:5432/app?sslmode=require" in text
        assert "sslpassword=***" in text and "'password': '***'" in text
    db = settings.databases["shop"]
    assert PW not in repr(db) and PW not in str(db)


def test_json_dump_hides_the_password_and_the_drivers_still_get_it() -> None:
    db = DatabaseSettings(url=PG_URL, options={"sslpassword": PW, "timeout": 5})
    dumped = db.model_dump_json()
    assert PW not in dumped
    assert json.loads(dumped)["options"] == {"sslpassword": "***", "timeout": 5}
    assert PW not in json.dumps(db.model_dump(mode="json"))
    # What the backends read keeps the real values.
    assert db.parsed.password == PW
    assert db.url == PG_URL
    assert db.options["sslpassword"] == PW
    assert db.parsed.render(hide_password=False) == PG_URL


def test_parsed_url_hides_the_password() -> None:
    url = parse_database_url(MY_URL)
    for text in (repr(url), str(url), url.render(), f"{url}"):
        assert PW not in text
    assert "password='***'" in repr(url)
    assert url.render() == "mysql://shop:***@10.0.0.3/shop?sslpassword=***&charset=utf8mb4"
    assert url.password == PW and url.query["sslpassword"] == PW
    assert parse_database_url(url.render(hide_password=False)) == url


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (PG_URL, "postgresql://app:***@db.example:5432/app?sslmode=require"),
        (f"postgres://app:{PW}@h/app", "postgres://app:***@h/app"),  # spelling kept
        ("postgresql://app@h/app", "postgresql://app@h/app"),
        (f"postgresql://app:{PW}/x@h/app", "postgresql://app:***@h/app"),  # '/' unencoded
        (f"mysql://u:p%40{PW}@h/db?password={PW}", "mysql://u:***@h/db?password=***"),
        ("sqlite:///db.sqlite3", "sqlite:///db.sqlite3"),
        (PW, "***"),  # not URL-shaped: could be anything
    ],
)
def test_hide_password(url: str, shown: str) -> None:
    assert hide_password(url) == shown


@pytest.mark.parametrize(
    "data",
    [
        # a bad key next to a URL with a password
        {"databases": {"default": {"url": PG_URL, "pool": {"max_size": 0}}}},
        {"databases": {"default": {"url": PG_URL, "pol": {}}}},
        # the whole databases table is the input of this error
        {"databases": {"primary": PG_URL}},
        # a malformed URL is the input of this one
        {"databases": {"default": f"postgresql://app:{PW}@db:99999/app"}},
        {"databases": {"default": f"postgress://app:{PW}@db/app"}},
        {"databases": {"default": f"postgresql://app:{PW}@db"}},
        {"databases": {"default": {"url": PG_URL, "options": {"password": 5}, "test": 7}}},
        {"databases": {"default": PG_URL}, "installed_apps": ["my-app"]},
    ],
)
def test_errors_of_bad_settings_do_not_show_the_password(data: dict[str, Any]) -> None:
    with pytest.raises(ImproperlyConfigured) as info:
        Settings.model_validate(data)
    assert PW not in everything_shown(info.value)
    assert info.value.__cause__ is not None, "the pydantic error stays as the cause"
    assert PW not in str(info.value.__cause__)


def test_errors_from_configure_and_files_do_not_show_the_password(tmp_path: Path) -> None:
    with pytest.raises(ImproperlyConfigured) as info:
        reinhardt_db.configure(databases={"default": PG_URL, "replica": {"url": PG_URL, "x": 1}})
    assert PW not in everything_shown(info.value)
    file = tmp_path / "reinhardt.toml"
    file.write_text(f'databases = {{ default = "{PG_URL}", other = 3 }}\n')
    with pytest.raises(ImproperlyConfigured) as info:
        read_settings(file)
    assert str(file) in str(info.value)
    assert PW not in everything_shown(info.value)
    with pytest.raises(ImproperlyConfigured) as info:
        read_settings(database_url=f"postgresql://app:{PW}@db:x/app")
    assert PW not in everything_shown(info.value)


def test_environment_url_errors_do_not_show_the_password(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("REINHARDT_DATABASE_URL", f"postgresql://app:{PW}@db/")
    with pytest.raises(ImproperlyConfigured) as info:
        get_settings()
    assert "REINHARDT_DATABASE_URL" in str(info.value)
    assert PW not in everything_shown(info.value)
