"""Who may see what in the explorer: local accounts, the login gate, the roles and the audit log.

The same in a real browser: tests/e2e/test_explorer_browser.py (login redirects, roles, audit).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from explorer import audit, auth
from explorer.sample import build_sample_home
from llif.cli import main

from helpers.paths import ROOT

TIMEOUT = 60


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("LLIF_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def test_accounts_keep_only_salted_hashes_in_an_owner_only_file(home):
    auth.add_account("pat", "correct horse battery", auth.PLANNER)
    auth.add_account("cam", "another long secret", auth.CARE_MANAGER)
    path = auth.accounts_file()
    assert path == home / "secrets" / "explorer_accounts.json"
    assert (path.stat().st_mode & 0o777) == 0o600
    text = path.read_text()
    assert "correct horse" not in text and "another long" not in text
    stored = json.loads(text)["users"]
    assert stored["pat"]["password"] != stored["cam"]["password"] and stored["pat"]["password"].startswith("scrypt$")
    assert auth.authenticate("pat", "correct horse battery") == auth.User("pat", auth.PLANNER, "local")
    assert auth.authenticate("pat", "wrong password!") is None
    assert auth.authenticate("nobody", "correct horse battery") is None
    assert auth.list_accounts() == [("cam", auth.CARE_MANAGER), ("pat", auth.PLANNER)]
    with pytest.raises(auth.AccountError, match="exists already"):
        auth.add_account("pat", "correct horse battery", auth.PLANNER)
    with pytest.raises(auth.AccountError, match="at least"):
        auth.add_account("sam", "short", auth.PLANNER)
    with pytest.raises(auth.AccountError, match="role"):
        auth.add_account("sam", "long enough secret", "admin")
    os.chmod(path, 0o644)
    with pytest.raises(auth.AccountError, match="chmod 600"):
        auth.authenticate("pat", "correct horse battery")


def test_the_accounts_command(home, monkeypatch, capsys):
    import io

    monkeypatch.setattr("sys.stdin", io.StringIO("a long enough password\n"))
    assert main(["accounts", "add", "pat", "--role", "planner", "--password-stdin"]) == 0
    assert main(["accounts", "list"]) == 0
    assert "pat\tplanner" in capsys.readouterr().out
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert main(["accounts", "add", "sam", "--role", "planner", "--password-stdin"]) == 2
    assert "at least" in capsys.readouterr().err
    assert main(["accounts", "remove", "pat"]) == 0 and auth.list_accounts() == []


def test_oidc_roles_come_from_the_token_or_the_accounts_file(home):
    assert auth.oidc_role({"roles": ["care_manager"], "email": "a@x"}) == auth.CARE_MANAGER
    assert auth.oidc_role({"roles": "planner"}) == auth.PLANNER
    assert auth.oidc_role({"email": "b@x"}) is None  # no role: the login page says so
    auth._write(auth.accounts_file(), {"users": {}, "oidc_roles": {"B@x": "planner"}})
    assert auth.oidc_role({"email": "b@x"}) == auth.PLANNER


@pytest.fixture(scope="module")
def published_home(tmp_path_factory) -> Path:
    home = tmp_path_factory.mktemp("explorer_auth") / "home"
    build_sample_home(home)
    return home


def _app(home: Path, monkeypatch, user=None) -> AppTest:
    monkeypatch.setenv("LLIF_HOME", str(home))
    at = AppTest.from_file(str(ROOT / "explorer" / "app.py"), default_timeout=TIMEOUT)
    if user is not None:
        at.session_state["llif_user"] = user
    return at.run()


def test_without_a_login_only_the_login_page_runs(published_home, monkeypatch):
    at = _app(published_home, monkeypatch)
    assert not at.exception
    assert [t.value for t in at.title] == ["llif explorer"]
    assert not at.get("plotly_chart")  # no figures before logging in
    assert any("llif accounts add" in i.value for i in at.info)  # no accounts yet: says how to make one


def test_logging_in_with_a_local_account(published_home, monkeypatch):
    monkeypatch.setenv("LLIF_HOME", str(published_home))
    auth.add_account("pat", "correct horse battery", auth.PLANNER, replace=True)
    at = _app(published_home, monkeypatch)
    at.text_input(key="login_name").input("pat")
    at.text_input(key="login_password").input("not the password")
    at.button[0].click().run()
    assert any("do not match" in e.value for e in at.error)
    assert "llif_user" not in at.session_state and [t.value for t in at.title] == ["llif explorer"]
    at.text_input(key="login_password").input("correct horse battery")
    at.button[0].click().run()
    assert not at.exception
    assert [t.value for t in at.title] == ["Tonight's overview"]
    assert any("Logged in as **pat** (planner)" in c.value for c in at.sidebar.caption)


def test_a_planner_cannot_open_the_outlooks_page(published_home, monkeypatch):
    monkeypatch.setenv("LLIF_HOME", str(published_home))
    at = AppTest.from_file(str(ROOT / "explorer" / "views" / "outlooks.py"), default_timeout=TIMEOUT)
    at.session_state["llif_user"] = auth.User("pat", auth.PLANNER, "local")
    at.run()
    assert any("care managers only" in e.value for e in at.error)
    assert not at.dataframe and audit.views() == []
    # and the planner's navigation does not offer it
    app = _app(published_home, monkeypatch, auth.User("pat", auth.PLANNER, "local"))
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        app.switch_page("views/outlooks.py")
    # a care manager's does
    app = _app(published_home, monkeypatch, auth.User("cam", auth.CARE_MANAGER, "local"))
    app.switch_page("views/outlooks.py").run()
    assert [t.value for t in app.title] == ["Individual outlooks"]


def test_a_care_managers_views_of_people_are_audited(published_home, monkeypatch):
    monkeypatch.setenv("LLIF_HOME", str(published_home))
    before = len(audit.views())
    at = AppTest.from_file(str(ROOT / "explorer" / "views" / "outlooks.py"), default_timeout=TIMEOUT)
    at.session_state["llif_user"] = auth.User("cam", auth.CARE_MANAGER, "local")
    at.run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    shown = at.dataframe[0].value
    keys = shown["Person (pseudonymous key)"].tolist()
    assert len(keys) == 25
    logged = audit.views()[before:]
    assert [r["person_key"] for r in logged] == keys
    assert {(r["user_name"], r["role"], r["action"], r["page"]) for r in logged} == {
        ("cam", auth.CARE_MANAGER, "list", "outlooks")}
    assert logged[0]["night"].startswith("night-")
    at.run()  # a rerun of the same view is not a new view
    assert len(audit.views()) == before + 25
    at.selectbox(key="ol_person").set_value(keys[3]).run()
    assert not at.exception
    last = audit.views()[-1]
    assert (last["person_key"], last["action"]) == (keys[3], "detail")
    assert (audit.audit_file().stat().st_mode & 0o077) == 0


def test_an_unwritable_audit_log_shows_no_one(published_home, monkeypatch, tmp_path):
    monkeypatch.setenv("LLIF_HOME", str(published_home))
    (tmp_path / "a_file").write_text("")  # the audit folder's place is taken: nothing can be logged
    monkeypatch.setattr(audit, "audit_file", lambda home=None: tmp_path / "a_file" / "audit.sqlite")
    at = AppTest.from_file(str(ROOT / "explorer" / "views" / "outlooks.py"), default_timeout=TIMEOUT)
    at.session_state["llif_user"] = auth.User("cam", auth.CARE_MANAGER, "local")
    at.run()
    assert any("cannot be logged" in e.value for e in at.error) and not at.dataframe
