"""Credentials never reach reports, logs or failure messages (kclusterkit.redact)."""

from __future__ import annotations

import logging

import pytest

from kclusterkit import redact
from kclusterkit.report.attachments import objects_yaml

JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6ZDpyIn0.c2lnbmF0dXJl"


def test_tokens_in_text_are_masked() -> None:
    text = (f"wget --header 'Authorization: Bearer {JWT}' https://kubernetes.default.svc\n"
            "users:\n- user:\n    token: d23ddff1a797d2dc0d521b87dc39d466\n"
            "    client-key-data: LS0tLS1CRUdJTg==\nkubectl --token=abc123def456 get pods")
    out = redact.redact_text(text)
    assert JWT not in out and "d23ddff1a797" not in out and "LS0tLS1CRUdJTg" not in out
    assert "abc123def456" not in out
    assert "Bearer ***" in out and "token: ***" in out and "--token=***" in out


def test_a_remembered_token_is_masked_anywhere() -> None:
    redact.remember("0123456789abcdef0123")
    assert redact.redact_text("x0123456789abcdef0123y") == "x***y"


def test_secret_values_and_issued_tokens_are_masked_in_attachments() -> None:
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db"},
              "data": {"password": "aHVudGVyMg=="}, "stringData": {"user": "root"}}
    request = {"kind": "TokenRequest", "status": {"token": JWT, "expirationTimestamp": "x"}}
    shown = objects_yaml([secret, request])
    assert "aHVudGVyMg==" not in shown and "root" not in shown and JWT not in shown
    assert "password: '***'" in shown and "expirationTimestamp: x" in shown


def test_log_records_are_redacted(caplog: pytest.LogCaptureFixture) -> None:
    redact.install_logging()
    with caplog.at_level(logging.INFO):
        logging.getLogger("kclusterkit.test").info("calling with Bearer %s", JWT)
    assert JWT not in caplog.text and "Bearer ***" in caplog.text


def test_a_step_failure_message_is_redacted() -> None:
    from types import SimpleNamespace

    from kclusterkit.steps._support import _guard

    def failing(context: object) -> None:
        raise AssertionError(f"expected a list\nobserved: token {JWT} was refused")

    with pytest.raises(AssertionError) as caught:
        _guard(failing)(SimpleNamespace())
    assert JWT not in str(caught.value) and "***" in str(caught.value)


def test_secret_values_from_a_doc_string_are_masked_in_written_results(tmp_path) -> None:
    redact.remember_secrets_in("apiVersion: v1\nkind: Secret\nmetadata: {name: db}\n"
                               "stringData: {password: correct-horse-battery}\n"
                               "data: {key: c3VwZXJzZWNyZXR2YWx1ZQ==}\n")
    (tmp_path / "a-attachment.txt").write_text("PASSWORD=correct-horse-battery\n"
                                                "key=supersecretvalue\n")
    (tmp_path / "b-result.json").write_text('{"name": "plain"}')
    assert redact.redact_files(tmp_path) == 1
    assert (tmp_path / "a-attachment.txt").read_text() == "PASSWORD=***\nkey=***\n"
