"""Web UI logins on each database (docs/web.md, "Logins"): Argon2id passwords, sessions by the
hash of their token, CSRF bound to the session, limits on failed logins, expiry, logout."""

from __future__ import annotations

import uuid

import pytest

from roster.domain.errors import InvalidInput, NotFound, TooManyLogins, Unauthorized
from roster.services.logins import (
    FAILURE_WINDOW,
    FAILURES_PER_ADDRESS,
    FAILURES_PER_EMAIL,
    SESSION_SECONDS,
    Logins,
    session_key,
)
from roster.services.system import System
from roster.storage.logins import user_by_email

PASSWORD = "correct horse battery"


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def logins(system: System, clock: Clock) -> Logins:
    """The service on the test's database, with a clock the test moves."""
    return Logins(system.database, system.writer, session_key("test-secret"), clock)


def _email() -> str:
    return f"ops-{uuid.uuid4().hex[:8]}@example.com"


def test_a_login_is_stored_as_an_argon2id_hash_and_logs_in_with_its_password(
    system: System, logins: Logins, workspace: dict[str, object]
) -> None:
    email = _email()
    logins.create_user(email.upper(), PASSWORD)
    with system.database.reader.connect() as connection:
        row = user_by_email(connection, email)
    assert row is not None and row.password_hash.startswith("$argon2id$")
    assert PASSWORD not in row.password_hash

    cookie = logins.log_in(f"  {email.upper()} ", PASSWORD, "10.0.0.1")
    login = logins.session(cookie)
    assert login is not None and login.email == email
    assert login.workspace_id is not None  # every workspace: it looks at the first by name
    assert logins.csrf_ok(login, login.csrf)
    assert not logins.csrf_ok(login, "0" * len(login.csrf))
    assert not logins.csrf_ok(login, None)


def test_a_wrong_password_and_an_unknown_email_get_the_same_refusal(logins: Logins) -> None:
    email = _email()
    logins.create_user(email, PASSWORD)
    with pytest.raises(Unauthorized) as wrong:
        logins.log_in(email, PASSWORD + "!", "10.0.0.2")
    with pytest.raises(Unauthorized) as unknown:
        logins.log_in(_email(), PASSWORD, "10.0.0.2")
    assert wrong.value.message == unknown.value.message == "wrong email or password"


def test_failed_logins_for_one_email_are_limited_until_the_oldest_is_old_enough(
    logins: Logins, clock: Clock
) -> None:
    email = _email()
    logins.create_user(email, PASSWORD)
    for n in range(FAILURES_PER_EMAIL):
        with pytest.raises(Unauthorized):
            logins.log_in(email, "wrong password", f"10.1.0.{n}")
    with pytest.raises(TooManyLogins) as refused:  # even the right password now
        logins.log_in(email, PASSWORD, "10.1.1.1")
    assert 0 < refused.value.retry_after <= FAILURE_WINDOW + 1
    clock.now += FAILURE_WINDOW + 1
    assert logins.session(logins.log_in(email, PASSWORD, "10.1.1.1")) is not None


def test_failed_logins_from_one_address_are_limited_whatever_the_email(logins: Logins) -> None:
    for _ in range(FAILURES_PER_ADDRESS):
        with pytest.raises(Unauthorized):
            logins.log_in(_email(), "wrong password", "10.2.0.1")
    with pytest.raises(TooManyLogins):
        logins.log_in(_email(), "wrong password", "10.2.0.1")


def test_a_session_ends_at_logout_and_when_it_expires(logins: Logins, clock: Clock) -> None:
    email = _email()
    logins.create_user(email, PASSWORD)
    first = logins.log_in(email, PASSWORD, "10.3.0.1")
    second = logins.log_in(email, PASSWORD, "10.3.0.1")
    logins.log_out(first)
    assert logins.session(first) is None
    assert logins.session(second) is not None
    clock.now += SESSION_SECONDS + 1
    assert logins.session(second) is None


def test_a_cookie_not_made_here_is_refused(logins: Logins) -> None:
    email = _email()
    logins.create_user(email, PASSWORD)
    cookie = logins.log_in(email, PASSWORD, "10.4.0.1")
    token, _, signature = cookie.partition(".")
    assert logins.session(f"{token}x.{signature}") is None
    assert logins.session(token) is None
    assert logins.session("") is None
    other = Logins(logins._database, logins._writer, session_key("another secret"))
    assert other.session(cookie) is None


def test_a_new_password_ends_every_session(logins: Logins) -> None:
    email = _email()
    logins.create_user(email, PASSWORD)
    cookie = logins.log_in(email, PASSWORD, "10.5.0.1")
    logins.set_password(email, "another good password")
    assert logins.session(cookie) is None
    with pytest.raises(Unauthorized):
        logins.log_in(email, PASSWORD, "10.5.0.2")
    assert logins.session(logins.log_in(email, "another good password", "10.5.0.2"))


def test_a_login_limited_to_workspaces_sees_and_switches_to_those_only(
    system: System, logins: Logins
) -> None:
    mine = system.workspaces.create(f"mine-{uuid.uuid4().hex[:8]}")
    theirs = system.workspaces.create(f"theirs-{uuid.uuid4().hex[:8]}")
    email = _email()
    user = logins.create_user(email, PASSWORD, (mine["name"],))
    assert user.workspaces == (mine["name"],)
    cookie = logins.log_in(email, PASSWORD, "10.6.0.1")
    login = logins.session(cookie)
    assert login is not None
    assert login.workspaces == ((mine["workspace_id"], mine["name"]),)
    assert login.workspace_id == mine["workspace_id"]
    with pytest.raises(NotFound):
        logins.switch(cookie, theirs["workspace_id"])
    assert logins.session(cookie).workspace_id == mine["workspace_id"]  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("email", "password", "named"),
    [
        ("not an email", PASSWORD, "email"),
        ("ok@example.com", "short", "password"),
        ("ok@example.com", "x" * 1025, "password"),
    ],
)
def test_a_bad_email_or_password_is_refused_naming_it(
    logins: Logins, email: str, password: str, named: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        logins.create_user(email, password)
    assert refused.value.field == named


def test_a_login_cannot_be_made_twice_or_for_a_workspace_that_does_not_exist(
    logins: Logins,
) -> None:
    email = _email()
    logins.create_user(email, PASSWORD)
    with pytest.raises(InvalidInput, match="exists already"):
        logins.create_user(email.upper(), PASSWORD)
    with pytest.raises(InvalidInput, match="no workspace named 'nowhere'"):
        logins.create_user(_email(), PASSWORD, ("nowhere",))


def test_deleting_a_login_ends_its_sessions(logins: Logins) -> None:
    email = _email()
    logins.create_user(email, PASSWORD)
    cookie = logins.log_in(email, PASSWORD, "10.7.0.1")
    logins.delete_user(email)
    assert logins.session(cookie) is None
    assert email not in [u.email for u in logins.users()]
    with pytest.raises(NotFound):
        logins.delete_user(email)


def test_a_login_without_workspaces_sees_every_workspace_even_one_made_later(
    system: System, logins: Logins
) -> None:
    email = _email()
    logins.create_user(email, PASSWORD)
    cookie = logins.log_in(email, PASSWORD, "10.8.0.1")
    later = system.workspaces.create(f"later-{uuid.uuid4().hex[:8]}")
    login = logins.session(cookie)
    assert login is not None
    assert (later["workspace_id"], later["name"]) in login.workspaces
    logins.switch(cookie, later["workspace_id"])
    assert logins.session(cookie).workspace_id == later["workspace_id"]  # type: ignore[union-attr]
