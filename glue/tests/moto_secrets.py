"""Secrets in the local stack's Secrets Manager (moto, at ``AWS_ENDPOINT_URL``), for the tests of
the jobs' ``--secret_id``: each secret has a name of its own and is deleted after its test, so
runs never share one and the TypeScript side's local secrets are never touched.
"""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest

#: What ``scripts/stack.env`` points the SDKs at; anything else could be a real account.
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


def local_endpoint() -> str:
    """``AWS_ENDPOINT_URL``, checked to be the local moto server."""
    endpoint = os.environ.get("AWS_ENDPOINT_URL")
    if not endpoint:
        pytest.fail("AWS_ENDPOINT_URL is not set: run through scripts/test.sh (stack.env)")
    if urlsplit(endpoint).hostname not in LOCAL_HOSTS:
        pytest.fail(f"AWS_ENDPOINT_URL {endpoint} is not the local moto server")
    return endpoint


def secrets_client() -> Any:
    import boto3

    local_endpoint()
    return boto3.client("secretsmanager", region_name=os.environ.get("AWS_REGION", "eu-west-1"))


def secret_from_database_url(url: str, **changes: Any) -> dict[str, Any]:
    """A connection secret (pipeline/connections/secret.ts format) for a ``postgres://`` URL,
    as ``secretFromUrl`` makes the local stack's."""
    parts = urlsplit(url)
    secret: dict[str, Any] = {
        "engine": "postgres",
        "host": parts.hostname,
        "port": parts.port,
        "dbname": unquote(parts.path.lstrip("/")),
        "username": unquote(parts.username or ""),
        "password": unquote(parts.password or ""),
    }
    secret.update(changes)
    return secret


@dataclass
class MotoSecrets:
    """Puts secrets into moto under fresh names; ``delete_all`` removes them."""

    client: Any = field(default_factory=secrets_client)
    names: list[str] = field(default_factory=list)

    def put(self, value: Any) -> str:
        """A new secret holding ``value`` (a string as it is, anything else as JSON)."""
        name = f"lakehouse-test/{uuid.uuid4().hex[:12]}"
        self.client.create_secret(Name=name, SecretString=self._text(value))
        self.names.append(name)
        return name

    def update(self, name: str, value: Any) -> None:
        """A new current version, as a cutover writes one."""
        self.client.put_secret_value(SecretId=name, SecretString=self._text(value))

    def delete_all(self) -> None:
        for name in self.names:
            self.client.delete_secret(SecretId=name, ForceDeleteWithoutRecovery=True)
        self.names.clear()

    @staticmethod
    def _text(value: Any) -> str:
        return value if isinstance(value, str) else json.dumps(value)
