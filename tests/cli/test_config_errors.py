"""`roster serve` with a configuration it cannot start with, run as a new user would: one line on
stderr naming the problem and what to do, exit code 2, no traceback (docs/operations.md "When
roster refuses to start")."""

from __future__ import annotations

import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from roster.tls import self_signed
from tests.server import free_port, run_roster


def refusal(done: subprocess.CompletedProcess[str]) -> str:
    """The one line a refused start printed (failing the test unless it was exactly that)."""
    output = done.stdout + done.stderr
    assert done.returncode == 2, output
    assert "Traceback" not in output, output
    assert done.stdout.strip() == "", output
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, output
    assert lines[0].startswith("error: "), output
    return lines[0]


def serve(folder: Path, *options: str, extra_env: dict[str, str] | None = None) -> str:
    """`roster serve` on a new SQLite file and a free port unless `options` say otherwise (a
    later option wins): its refusal line."""
    defaults = ["--database-url", f"sqlite:///{folder / 'roster.db'}", "--port", str(free_port())]
    done = run_roster(
        "serve", *defaults, *options, data_dir=folder / "data", extra_env=extra_env, timeout=60
    )
    return refusal(done)


def test_a_database_url_that_is_not_a_url_is_refused_with_the_forms_it_may_take(
    tmp_path: Path,
) -> None:
    line = serve(tmp_path, "--database-url", "roster.db")

    assert "'roster.db' is not a database URL" in line
    assert "sqlite:///PATH or postgresql://USER@HOST/DB" in line


def test_a_database_roster_does_not_support_is_refused_by_name(tmp_path: Path) -> None:
    line = serve(tmp_path, "--database-url", "mysql://me@127.0.0.1/roster")

    assert "unsupported database 'mysql'" in line
    assert "sqlite:///PATH or postgresql://USER@HOST/DB" in line


def test_an_unreachable_postgresql_server_is_named_without_its_password(tmp_path: Path) -> None:
    port = free_port()  # nothing listens there
    url = f"postgresql://roster:s3cret-word@127.0.0.1:{port}/roster"

    line = serve(tmp_path, "--database-url", url)

    assert f"cannot reach the database postgresql://roster:***@127.0.0.1:{port}/roster" in line
    assert "Connection refused" in line
    assert "that PostgreSQL is running" in line
    assert "s3cret-word" not in line


def test_a_postgresql_database_that_does_not_exist_is_named_with_the_servers_reason(
    tmp_path: Path, postgres_url: str
) -> None:
    missing = postgres_url.rsplit("/", 1)[0] + "/roster_no_such_database"

    line = serve(tmp_path, "--database-url", missing)

    assert "cannot reach the database" in line
    assert 'database "roster_no_such_database" does not exist' in line
    assert "Check --database-url / ROSTER_DATABASE_URL" in line


def test_a_sqlite_file_in_a_folder_that_cannot_be_made_is_named(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")

    line = serve(tmp_path, "--database-url", f"sqlite:///{blocker / 'roster.db'}")

    assert f"{blocker} is a file, not a folder" in line
    assert "Give a path under a folder (--database-url" in line


def test_more_than_one_worker_on_sqlite_is_refused_with_what_to_use_instead(
    tmp_path: Path,
) -> None:
    line = serve(tmp_path, "--workers", "2")

    assert "--workers above 1 needs PostgreSQL" in line
    assert "Use --database-url postgresql://USER@HOST/DB, or run one worker." in line


def test_zero_workers_are_refused(tmp_path: Path) -> None:
    line = serve(tmp_path, "--workers", "0")

    assert "--workers must be at least 1" in line


@pytest.fixture(scope="module")
def pairs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path, Path, Path]]:
    """Two certificates with their keys: (cert_a, key_a, cert_b, key_b)."""
    folder = tmp_path_factory.mktemp("tls")
    cert_a, key_a = self_signed(folder / "a", "127.0.0.1")
    cert_b, key_b = self_signed(folder / "b", "127.0.0.1")
    yield cert_a, key_a, cert_b, key_b


def test_a_tls_certificate_file_that_does_not_exist_is_named(
    tmp_path: Path, pairs: tuple[Path, Path, Path, Path]
) -> None:
    missing = tmp_path / "missing.pem"

    line = serve(tmp_path, "--tls-cert", str(missing), "--tls-key", str(pairs[1]))

    assert f"the TLS certificate {missing} does not exist" in line
    assert "--tls-cert" in line


def test_a_tls_key_file_that_does_not_exist_is_named(
    tmp_path: Path, pairs: tuple[Path, Path, Path, Path]
) -> None:
    missing = tmp_path / "missing-key.pem"

    line = serve(tmp_path, "--tls-cert", str(pairs[0]), "--tls-key", str(missing))

    assert f"the TLS private key {missing} does not exist" in line
    assert "--tls-key" in line


def test_a_tls_certificate_without_its_key_is_refused(
    tmp_path: Path, pairs: tuple[Path, Path, Path, Path]
) -> None:
    line = serve(tmp_path, "--tls-cert", str(pairs[0]))

    assert "--tls-cert and --tls-key go together" in line


def test_a_certificate_with_another_certificates_key_is_refused_as_not_matching(
    tmp_path: Path, pairs: tuple[Path, Path, Path, Path]
) -> None:
    cert_a, _key_a, _cert_b, key_b = pairs

    line = serve(tmp_path, "--tls-cert", str(cert_a), "--tls-key", str(key_b))

    assert f"the certificate {cert_a} does not match the private key {key_b}" in line
    assert "give the key the certificate was made for" in line


def test_a_certificate_file_that_is_not_pem_is_refused(
    tmp_path: Path, pairs: tuple[Path, Path, Path, Path]
) -> None:
    garbled = tmp_path / "garbled.pem"
    garbled.write_text(
        "-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n"
    )

    line = serve(tmp_path, "--tls-cert", str(garbled), "--tls-key", str(pairs[1]))

    assert f"{garbled} is not a PEM certificate" in line


def test_a_key_file_that_holds_a_certificate_is_refused_as_not_a_private_key(
    tmp_path: Path, pairs: tuple[Path, Path, Path, Path]
) -> None:
    cert_a = pairs[0]

    line = serve(tmp_path, "--tls-cert", str(cert_a), "--tls-key", str(cert_a))

    assert f"{cert_a} is not a PEM private key" in line


def test_an_encrypted_private_key_is_refused_with_how_to_decrypt_it(
    tmp_path: Path, pairs: tuple[Path, Path, Path, Path]
) -> None:
    cert_a, key_a = pairs[0], pairs[1]
    key = serialization.load_pem_private_key(key_a.read_bytes(), password=None)
    encrypted = tmp_path / "encrypted-key.pem"
    encrypted.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"a passphrase"),
        )
    )

    line = serve(tmp_path, "--tls-cert", str(cert_a), "--tls-key", str(encrypted))

    assert f"the private key {encrypted} is encrypted" in line
    assert f"openssl pkey -in {encrypted}" in line


def test_a_port_outside_the_range_of_ports_is_refused(tmp_path: Path) -> None:
    line = serve(tmp_path, "--port", "70000")

    assert "--port 70000 is not a port. Give one from 1 to 65535." in line


def test_a_port_another_program_listens_on_is_named_as_taken(tmp_path: Path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]

        line = serve(tmp_path, "--port", str(port))

    assert f"port {port} on 127.0.0.1 is taken (address already in use)" in line
    assert "choose another port with --port" in line


def test_a_host_that_is_no_address_of_this_machine_is_refused(tmp_path: Path) -> None:
    line = serve(tmp_path, "--host", "no-such-host.invalid")

    assert "cannot listen on --host no-such-host.invalid" in line


def test_a_data_directory_that_cannot_be_created_is_named(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    data_dir = blocker / "data"

    line = serve(tmp_path, extra_env={"ROSTER_DATA_DIR": str(data_dir)})

    assert f"cannot create the data directory {data_dir}: Not a directory" in line
    assert "ROSTER_DATA_DIR" in line


def test_a_setting_with_a_value_of_the_wrong_kind_is_named_with_its_variable(
    tmp_path: Path,
) -> None:
    line = serve(tmp_path, extra_env={"ROSTER_WRITE_TIMEOUT": "soon"})

    assert "invalid setting write_timeout 'soon'" in line
    assert "Fix ROSTER_WRITE_TIMEOUT" in line
