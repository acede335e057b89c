"""Who may see what in the explorer: a login on every page, and two roles.

- *planner*: every aggregate page and the what-ifs;
- *care manager*: all of that and the **Individual outlooks** page (named people's risks over
  ``ml.person_outlooks``; every person shown is written to the audit log, ``explorer/audit.py``).

Two ways to log in, chosen by the configuration the operator gives:

1. **OIDC** (Microsoft Entra ID or any OpenID Connect provider) through Streamlit's own
   ``st.login``, when ``LLIF_HOME/secrets/explorer_oidc.toml`` has an ``[auth]`` section
   (``llif serve`` hands it to Streamlit; ``docs/deploy.md`` shows the Entra ID set-up). The
   role comes from the token's ``roles`` claim (Entra ID app roles ``planner`` and
   ``care_manager``) or, failing that, from the accounts file's ``oidc_roles`` by e-mail.
2. **Local accounts** for small deployments: ``LLIF_HOME/secrets/explorer_accounts.json``
   (owner-only), managed with ``llif accounts add|remove|list``. Passwords are stored only as
   scrypt hashes with a salt of their own; the file is never in the checkout.

Why a login page instead of hiding pages: ``st.navigation`` is given only the pages the
visitor may open, so a page outside them cannot be reached by its URL (Streamlit sends the
visitor to the default page, the login); and the outlooks page checks the role again itself.
A local login lasts for the browser session (a reload asks again); OIDC's lasts for its cookie.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

PLANNER = "planner"
CARE_MANAGER = "care_manager"
ROLES = (PLANNER, CARE_MANAGER)
ROLE_LABELS = {PLANNER: "planner", CARE_MANAGER: "care manager"}
_SCRYPT = {"n": 2**14, "r": 8, "p": 1, "dklen": 32}
MIN_PASSWORD = 10


class AccountError(ValueError):
    """A bad account request; ``str()`` says what to change."""


@dataclass(frozen=True)
class User:
    name: str
    role: str
    how: str  # "local" or "oidc"

    @property
    def may_see_people(self) -> bool:
        return self.role == CARE_MANAGER


def hash_password(password: str, salt: bytes | None = None) -> str:
    salt = salt if salt is not None else secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, **_SCRYPT)
    return "scrypt$" + base64.b64encode(salt).decode() + "$" + base64.b64encode(digest).decode()


def check_password(password: str, stored: str) -> bool:
    try:
        kind, salt, digest = stored.split("$")
    except ValueError:
        return False
    if kind != "scrypt":
        return False
    mine = hashlib.scrypt(password.encode(), salt=base64.b64decode(salt), **_SCRYPT)
    return hmac.compare_digest(mine, base64.b64decode(digest))


def accounts_file(home: Path | None = None) -> Path:
    from contracts.settings import paths

    return paths(home).accounts


def _read(path: Path) -> dict:
    if not path.exists():
        return {"users": {}, "oidc_roles": {}}
    mode = path.stat().st_mode & 0o077
    if mode:
        raise AccountError(f"{path} is readable by other users (mode {oct(path.stat().st_mode & 0o777)}): "
                           f"run `chmod 600 {path}`")
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise AccountError(f"{path}: not valid JSON (line {exc.lineno}): {exc.msg}") from None
    data.setdefault("users", {})
    data.setdefault("oidc_roles", {})
    return data


def _write(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(data, fh, indent=2, sort_keys=True)
    os.replace(tmp, path)


def add_account(name: str, password: str, role: str, path: Path | None = None, replace: bool = False) -> None:
    path = path or accounts_file()
    name = name.strip()
    if not name or any(c.isspace() for c in name):
        raise AccountError(f"account name {name!r}: one word, no spaces")
    if role not in ROLES:
        raise AccountError(f"role {role!r}: choose {' or '.join(ROLES)}")
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"the password must be at least {MIN_PASSWORD} characters")
    data = _read(path)
    if name in data["users"] and not replace:
        raise AccountError(f"account {name!r} exists already (use --replace to change its password or role)")
    data["users"][name] = {"password": hash_password(password), "role": role,
                           "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}
    _write(path, data)


def remove_account(name: str, path: Path | None = None) -> None:
    path = path or accounts_file()
    data = _read(path)
    if data["users"].pop(name, None) is None:
        raise AccountError(f"no account {name!r} in {path}")
    _write(path, data)


def list_accounts(path: Path | None = None) -> list[tuple[str, str]]:
    return sorted((n, u["role"]) for n, u in _read(path or accounts_file())["users"].items())


def authenticate(name: str, password: str, path: Path | None = None) -> User | None:
    """The user if the name and password match a local account, else None (same time either way)."""
    users = _read(path or accounts_file())["users"]
    account = users.get(name.strip())
    stored = account["password"] if account else hash_password("x" * MIN_PASSWORD, b"0" * 16)
    ok = check_password(password, stored)  # computed even for an unknown name: no timing tell
    if not (ok and account):
        return None
    return User(name=name.strip(), role=account["role"], how="local")


def oidc_config_file(home: Path | None = None) -> Path:
    from contracts.settings import paths

    return paths(home).accounts.parent / "explorer_oidc.toml"


def oidc_role(claims: dict, path: Path | None = None) -> str | None:
    """The role of an OIDC user: the token's ``roles`` claim, else the accounts file by e-mail."""
    roles = claims.get("roles") or []
    if isinstance(roles, str):
        roles = [roles]
    if CARE_MANAGER in roles:
        return CARE_MANAGER
    if PLANNER in roles:
        return PLANNER
    email = str(claims.get("email") or claims.get("preferred_username") or "").lower()
    mapped = {k.lower(): v for k, v in _read(path or accounts_file())["oidc_roles"].items()}
    role = mapped.get(email)
    return role if role in ROLES else None


# ------------------------------------------------------------------------------------ Streamlit


def oidc_configured() -> bool:
    import streamlit as st

    try:
        return "auth" in st.secrets and bool(st.secrets["auth"].get("client_id") or
                                               any(isinstance(v, dict) for v in st.secrets["auth"].values()))
    except Exception:  # noqa: BLE001 (no secrets file at all: Streamlit raises its own kinds)
        return False


def current_user() -> User | None:
    """The logged-in user of this browser session, or None."""
    import streamlit as st

    user = st.session_state.get("llif_user")
    if user is not None:
        return user
    if oidc_configured() and getattr(st.user, "is_logged_in", False):
        claims = st.user.to_dict()
        role = oidc_role(claims)
        if role is None:
            return None
        user = User(name=str(claims.get("email") or claims.get("name") or "oidc user"), role=role, how="oidc")
        st.session_state["llif_user"] = user
    return user


def login_page() -> None:
    """The one page a visitor who has not logged in can open."""
    import streamlit as st

    st.title("llif explorer")
    st.markdown("Please log in to see the nightly figures.")
    if oidc_configured():
        if getattr(st.user, "is_logged_in", False):  # logged in at the provider, but no llif role
            st.error(f"{st.user.get('email') or 'This account'} has no llif role (planner or care manager). "
                     "Ask the llif administrator to assign one.")
            st.button("Log out", on_click=st.logout)
        else:
            st.button("Log in with your organisation account", type="primary", on_click=st.login)
        return
    with st.form("login"):
        name = st.text_input("User name", key="login_name")
        password = st.text_input("Password", type="password", key="login_password")
        submitted = st.form_submit_button("Log in", type="primary")
    if submitted:
        try:
            user = authenticate(name, password)
        except AccountError as exc:
            st.error(f"Logging in is not possible: {exc}")
            return
        if user is None:
            st.error("That user name and password do not match an account.")
            return
        st.session_state["llif_user"] = user
        st.rerun()
    if not list_accounts_safely():
        st.info("No accounts exist yet. The administrator creates them with "
                "`llif accounts add NAME --role planner` (or `--role care_manager`).")


def list_accounts_safely() -> list[tuple[str, str]]:
    try:
        return list_accounts()
    except AccountError:
        return []


def logout() -> None:
    import streamlit as st

    user = st.session_state.pop("llif_user", None)  # a button's callback: the page reruns by itself
    if user is not None and user.how == "oidc":
        st.logout()


def require(role: str = PLANNER) -> User:
    """Stop the page unless the visitor is logged in with ``role`` (care managers may do all)."""
    import streamlit as st

    user = current_user()
    if user is None:
        st.error("Please log in first.")
        st.stop()
    if role == CARE_MANAGER and not user.may_see_people:
        st.error("This page is for care managers only.")
        st.stop()
    return user
