"""Web UI logins (docs/web.md, "Logins"): users with Argon2id-hashed passwords, sessions known
by the SHA-256 of a random token, CSRF tokens bound to the session, and a limit on failed logins.

The session cookie holds the token and an HMAC of it under a key derived from
ROSTER_SECRET_KEY, so a cookie that was not made here is refused without a database read; the
session row is what logout and expiry remove."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections import deque
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from roster.domain.context import Clock
from roster.domain.errors import InvalidInput, NotFound, TooManyLogins, Unauthorized
from roster.domain.identifiers import looks_like_email
from roster.storage import logins as rows
from roster.storage.database import Database
from roster.storage.writer import Transaction, Writer

SESSION_COOKIE = "roster_session"  # the UI's session; /api and the App API take it too
CSRF_HEADER = "x-csrf-token"  # what a call made with the session cookie carries, beside it
SESSION_SECONDS = 12 * 3600
MIN_PASSWORD = 10
MAX_PASSWORD = 1024  # Argon2 hashes anything; this keeps a form post from being a workload
# Failed logins: at most FAILURES_PER_EMAIL for one email and FAILURES_PER_ADDRESS from one
# client address within FAILURE_WINDOW seconds; beyond, logins are refused unchecked.
FAILURE_WINDOW = 15 * 60
FAILURES_PER_EMAIL = 5
FAILURES_PER_ADDRESS = 20
_PURPOSE = b"roster ui sessions v1"
_HASHER = PasswordHasher()  # Argon2id with the library's recommended costs
# Checked against when the email is unknown, so that both answers take as long.
_DUMMY = _HASHER.hash("not a password anyone has")


@dataclass(frozen=True)
class Login:
    """A logged-in user as a page sees them."""

    email: str
    workspace_id: int | None  # the workspace being looked at; None when there is none yet
    workspaces: tuple[tuple[int, str], ...]  # (id, name) the login may see, by name
    csrf: str  # what every form of this session carries


@dataclass(frozen=True)
class User:
    email: str
    workspaces: tuple[str, ...]  # names; empty: every workspace
    created_at: float


def session_key(secret_key: str) -> bytes:
    """The key session cookies and CSRF tokens are signed with: derived from ROSTER_SECRET_KEY
    and used for nothing else."""
    return hmac.new(secret_key.encode(), _PURPOSE, hashlib.sha256).digest()


def _fold(email: str) -> str:
    return email.strip().lower()


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Logins:
    def __init__(
        self, database: Database, writer: Writer, key: bytes, clock: Clock = time.time
    ) -> None:
        self._database = database
        self._writer = writer
        self._key = key
        self._clock = clock
        self._failures: dict[str, deque[float]] = {}

    # -- users ------------------------------------------------------------------------------------

    def create_user(self, email: str, password: str, workspaces: tuple[str, ...] = ()) -> User:
        """A new login; `workspaces` (names) limits what it sees, none means every workspace."""
        folded = _fold(email)
        if not looks_like_email(folded) or len(folded) > 320:
            raise InvalidInput(f"'{email}' is not an email address", field="email")
        _check_password(password)
        hashed = _HASHER.hash(password)

        def work(tx: Transaction) -> User:
            if rows.user_by_email(tx.connection, folded) is not None:
                raise InvalidInput(f"a login for {folded} exists already", field="email")
            named = dict((name, id_) for id_, name in rows.workspace_names(tx.connection, ()))
            missing = [name for name in workspaces if name not in named]
            if missing:
                raise InvalidInput(
                    f"no workspace named {', '.join(repr(n) for n in missing)}", field="workspace"
                )
            ids = tuple(sorted({named[name] for name in workspaces}))
            now = self._clock()
            rows.add_user(tx.connection, folded, hashed, ids, now)
            return User(folded, tuple(sorted(set(workspaces))), now)

        created: User = self._writer.run_sync(work)
        return created

    def set_password(self, email: str, password: str) -> None:
        """A new password; every session of the login ends."""
        _check_password(password)
        hashed = _HASHER.hash(password)

        def work(tx: Transaction) -> None:
            user = rows.user_by_email(tx.connection, _fold(email))
            if user is None:
                raise NotFound(f"no login for {_fold(email)}")
            rows.set_password(tx.connection, user.pk, hashed)
            rows.end_sessions(tx.connection, user.pk)

        self._writer.run_sync(work)

    def delete_user(self, email: str) -> None:
        def work(tx: Transaction) -> None:
            user = rows.user_by_email(tx.connection, _fold(email))
            if user is None:
                raise NotFound(f"no login for {_fold(email)}")
            rows.remove_user(tx.connection, user.pk)

        self._writer.run_sync(work)

    def users(self) -> list[User]:
        with self._database.reader.connect() as connection:
            found = rows.all_users(connection)
            names = dict(rows.workspace_names(connection, ()))
        return [
            User(
                u.email, tuple(sorted(names.get(i, str(i)) for i in u.workspace_ids)), u.created_at
            )
            for u in found
        ]

    # -- sessions ---------------------------------------------------------------------------------

    def log_in(self, email: str, password: str, address: str) -> str:
        """A new session's cookie value, or Unauthorized (the same for an unknown email and a
        wrong password), or TooManyLogins while the failures of the email or address are over
        the limit."""
        folded = _fold(email)
        now = self._clock()
        self._check_failures(folded, address, now)
        with self._database.reader.connect() as connection:
            user = rows.user_by_email(connection, folded)
        try:
            _HASHER.verify(user.password_hash if user else _DUMMY, password[:MAX_PASSWORD])
            known = user is not None
        except (VerificationError, InvalidHashError):
            known = False
        if not known or user is None:
            self._fail(folded, address, now)
            raise Unauthorized("wrong email or password")
        token = secrets.token_urlsafe(32)
        visible = self._visible(user.workspace_ids)

        def work(tx: Transaction) -> None:
            first = visible[0][0] if visible else None
            expires = now + SESSION_SECONDS
            rows.add_session(tx.connection, _token_hash(token), user.pk, first, now, expires)

        self._writer.run_sync(work)
        self._failures.pop("email:" + folded, None)
        return f"{token}.{self._sign(token)}"

    def session(self, cookie: str) -> Login | None:
        """The login a session cookie belongs to, or None for a cookie not made here, ended or
        expired."""
        token = self._token(cookie)
        if token is None:
            return None
        with self._database.reader.connect() as connection:
            found = rows.session(connection, _token_hash(token), self._clock())
            if found is None:
                return None
            visible = tuple(rows.workspace_names(connection, found.user.workspace_ids))
        ids = {id_ for id_, _ in visible}
        current = found.workspace_id if found.workspace_id in ids else None
        if current is None and visible:
            current = visible[0][0]
        return Login(found.user.email, current, visible, self._sign("csrf:" + token))

    def switch(self, cookie: str, workspace_id: int) -> None:
        """Look at another workspace; NotFound unless the login may see it."""
        login = self.session(cookie)
        token = self._token(cookie)
        if login is None or token is None:
            raise Unauthorized("the session has ended: log in again")
        if workspace_id not in {id_ for id_, _ in login.workspaces}:
            raise NotFound(f"no workspace {workspace_id} for this login")

        def work(tx: Transaction) -> None:
            rows.switch_workspace(tx.connection, _token_hash(token), workspace_id)

        self._writer.run_sync(work)

    def log_out(self, cookie: str) -> None:
        token = self._token(cookie)
        if token is None:
            return

        def work(tx: Transaction) -> None:
            rows.remove_session(tx.connection, _token_hash(token))

        self._writer.run_sync(work)

    def csrf_ok(self, login: Login, given: str | None) -> bool:
        return given is not None and hmac.compare_digest(login.csrf, given)

    # -- inside -----------------------------------------------------------------------------------

    def _sign(self, text: str) -> str:
        return hmac.new(self._key, text.encode(), hashlib.sha256).hexdigest()

    def _token(self, cookie: str) -> str | None:
        token, _, signature = cookie.partition(".")
        if not token or not hmac.compare_digest(self._sign(token), signature):
            return None
        return token

    def _visible(self, ids: tuple[int, ...]) -> list[tuple[int, str]]:
        with self._database.reader.connect() as connection:
            return rows.workspace_names(connection, ids)

    def _check_failures(self, email: str, address: str, now: float) -> None:
        for key, limit in (
            ("email:" + email, FAILURES_PER_EMAIL),
            ("from:" + address, FAILURES_PER_ADDRESS),
        ):
            failures = self._failures.get(key)
            if failures is None:
                continue
            while failures and failures[0] <= now - FAILURE_WINDOW:
                failures.popleft()
            if len(failures) >= limit:
                raise TooManyLogins(max(1, int(failures[0] + FAILURE_WINDOW - now) + 1))

    def _fail(self, email: str, address: str, now: float) -> None:
        if len(self._failures) > 100_000:  # a flood of made-up emails cannot grow this forever
            self._failures.clear()
        for key in ("email:" + email, "from:" + address):
            self._failures.setdefault(key, deque()).append(now)


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise InvalidInput(f"a password needs at least {MIN_PASSWORD} characters", field="password")
    if len(password) > MAX_PASSWORD:
        raise InvalidInput(f"a password has at most {MAX_PASSWORD} characters", field="password")
