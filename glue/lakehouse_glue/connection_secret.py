"""The connection secret of a source database, read the way the functions read it.

The secret's JSON is defined by ``pipeline/connections/secret.ts`` (``ConnectionSecretSchema``
and ``parseConnectionSecret``): ``engine``, ``host``, ``port``, ``dbname`` (alias ``database``),
``username`` (alias ``user``), ``password`` and ``options`` (URL parameters such as ``sslmode``).
This module applies the same rules, so a cutover that updates the secret switches the Glue job
exactly as it switches the Lambdas; the contract is checked on both sides from one fixture,
``tests/fixtures/connection-secrets.json``.

The rules, as the TypeScript schema states them:

- the secret is a JSON object, merged over the caller's defaults (those that are not null or
  empty), the secret winning; ``dbname`` falls back to ``database`` and ``username`` to
  ``user`` when absent or null (JavaScript's ``??``);
- ``engine`` is one of ``ENGINES``; ``host`` and ``dbname`` are non-empty strings; ``port`` is
  optional and coerced like JavaScript's ``Number()`` (``"5433"`` is 5433), an integer from 1 to
  65535; ``username`` a non-empty string and ``password`` a string, both optional; ``options``
  maps names to strings, numbers or booleans, rendered as JavaScript's ``String()`` does.

On top of them, the job's own (``jdbc_login``): the engine defaults to ``postgres``, as the ddc
function's does (``pipeline/lambda/runtime.ts``), and must be ``postgres``, since the job reads
PostgreSQL; and a login needs a ``username``.

Every error names the secret and the bad fields, never a value: the secret's password must not
reach a log, and neither should anything else it holds.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from lakehouse_glue.errors import JobConfigError, SourceUnavailableError

ENGINES = ("postgres", "mongodb", "mongodb+srv")
#: What the JDBC URL names when the secret has no port (``connectionUrl``'s default too).
DEFAULT_POSTGRES_PORT = 5432
#: The defaults the ddc function passes with its secret (``pipeline/lambda/runtime.ts``).
JOB_DEFAULTS: Mapping[str, Any] = {"engine": "postgres"}

_ABSENT: Any = object()
_MAX_PORT = 65_535
# A JSON number JavaScript holds exactly (beyond it, the double JSON.parse makes is rendered).
_MAX_SAFE_INTEGER = 2**53 - 1
# JavaScript's StrWhiteSpaceChar (Number("  5432\n") is 5432); Python's str.strip() differs.
_JS_WHITESPACE = (
    " \t\n\v\f\r\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009"
    "\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
)
_JS_DECIMAL = re.compile(r"[+-]?(?:Infinity|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)")
_JS_RADIX = re.compile(r"0(?:[xX][0-9a-fA-F]+|[oO][0-7]+|[bB][01]+)")
# Array-index property names, which JavaScript objects enumerate first, in ascending order.
_ARRAY_INDEX = re.compile(r"0|[1-9][0-9]*")
_MAX_ARRAY_INDEX = 2**32 - 2


@dataclass(frozen=True)
class ConnectionSecret:
    """A parsed secret (``ConnectionSecret`` in TypeScript). The password is never in ``repr``."""

    engine: str
    host: str
    dbname: str
    port: int | None = None
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    #: URL parameters in the order JavaScript enumerates them, values already as ``String()``.
    options: tuple[tuple[str, str], ...] = ()


def parse_connection_secret(
    name: str, secret_string: str, defaults: Mapping[str, Any] | None = None
) -> ConnectionSecret:
    """Parse a secret string merged over ``defaults`` (``parseConnectionSecret``).

    Raises ``JobConfigError`` naming the secret and every bad field; values never appear in it.
    """
    try:
        raw = json.loads(secret_string, parse_constant=_refuse_constant)
    except (ValueError, RecursionError):
        raise JobConfigError(f"secret {name} is not JSON") from None
    if not isinstance(raw, dict):
        raise JobConfigError(f"secret {name} must be a JSON object")
    defined = {k: v for k, v in (defaults or {}).items() if v is not None and v != ""}
    merged: dict[str, Any] = {**defined, **raw}
    problems: list[str] = []

    engine = merged.get("engine", _ABSENT)
    if not isinstance(engine, str) or engine not in ENGINES:
        problems.append(f"engine must be one of {', '.join(ENGINES)}")
    host = _required_text(merged.get("host", _ABSENT), "host", problems)
    port = _port(merged.get("port", _ABSENT), problems)
    dbname = _required_text(_alias(merged, "dbname", "database"), "dbname", problems)
    username = _optional_text(_alias(merged, "username", "user"), "username", problems, empty=False)
    password = _optional_text(merged.get("password", _ABSENT), "password", problems, empty=True)
    options = _options(merged.get("options", _ABSENT), problems)

    if problems:
        raise JobConfigError(f"secret {name}: {'; '.join(problems)}")
    return ConnectionSecret(
        engine=str(engine),
        host=str(host),
        dbname=str(dbname),
        port=port,
        username=username,
        password=password,
        options=options,
    )


def jdbc_url(secret: ConnectionSecret) -> str:
    """``jdbc:postgresql://host:port/dbname?options``.

    The database name is percent-encoded as ``encodeURIComponent`` does: the PostgreSQL driver
    URL-decodes it (``+`` would read as a space, ``?`` would end it, ``%`` or ``/`` would make
    the URL invalid). The options are encoded as ``URLSearchParams`` does, which the driver
    decodes likewise. The host is written as it is, as ``connectionUrl`` does.
    """
    url = (
        f"jdbc:postgresql://{secret.host}:{secret.port or DEFAULT_POSTGRES_PORT}/"
        f"{_encode_uri_component(secret.dbname)}"
    )
    if secret.options:
        url += "?" + "&".join(f"{_form(k)}={_form(v)}" for k, v in secret.options)
    return url


def jdbc_login(
    name: str, secret_string: str, defaults: Mapping[str, Any] = JOB_DEFAULTS
) -> tuple[str, str, str]:
    """The job's JDBC url, user and password from a secret string.

    The secret's rules (``parse_connection_secret``) and the job's: a PostgreSQL engine (by
    default, as for the ddc function) and a username. No password is an empty one.
    """
    secret = parse_connection_secret(name, secret_string, defaults)
    problems: list[str] = []
    if secret.engine != "postgres":
        problems.append("engine must be postgres (the job reads PostgreSQL over JDBC)")
    if secret.username is None:
        problems.append("username is not set (the job logs in with it)")
    if problems or secret.username is None:
        raise JobConfigError(f"secret {name}: {'; '.join(problems)}")
    try:
        url = jdbc_url(secret)
    except UnicodeEncodeError:  # a lone surrogate (JSON's "\ud800"): no UTF-8 for it
        raise JobConfigError(f"secret {name}: dbname or options are not valid Unicode") from None
    return url, secret.username, secret.password or ""


def read_secret_string(secret_id: str, client: Any = None) -> str:
    """The secret's string from Secrets Manager (moto locally: boto3 follows
    ``AWS_ENDPOINT_URL``), as ``readConnectionSecret`` reads it.

    A missing secret or a refused read will not heal by retrying: ``JobConfigError`` naming the
    secret. Anything else (throttling, the network) may: ``SourceUnavailableError``, retryable.
    """
    # boto3 ships with Glue and with the local venv; imported here so that only this path pays.
    from botocore.exceptions import BotoCoreError, ClientError
    from botocore.exceptions import ConnectionError as BotoConnectionError

    try:
        secrets = client or _secrets_client(secret_id)
        response = secrets.get_secret_value(SecretId=secret_id)
    except ClientError as error:
        code = str(error.response.get("Error", {}).get("Code", "ClientError"))
        if code in _TERMINAL_CODES:
            raise JobConfigError(f"secret {secret_id}: {code}") from error
        raise SourceUnavailableError(
            f"secret {secret_id} could not be read: {code}", retryable=True
        ) from error
    except BotoConnectionError as error:
        raise SourceUnavailableError(
            f"secret {secret_id} could not be read: {type(error).__name__}", retryable=True
        ) from error
    except BotoCoreError as error:  # no region, no credentials: the environment's setup
        raise JobConfigError(
            f"secret {secret_id} could not be read: {type(error).__name__}: {error}"
        ) from error
    value = response.get("SecretString")
    if not isinstance(value, str):
        raise JobConfigError(f"secret {secret_id} has no string value")
    return value


def read_jdbc_login(secret_id: str, client: Any = None) -> tuple[str, str, str]:
    """``jdbc_login`` of the secret ``secret_id`` as Secrets Manager holds it now."""
    return jdbc_login(secret_id, read_secret_string(secret_id, client))


# ---------------------------------------------------------------------------------------------
# Secrets Manager
# ---------------------------------------------------------------------------------------------

#: Error codes a retry will not change: the secret is missing, refused, deleted or malformed.
_TERMINAL_CODES = frozenset(
    {
        "ResourceNotFoundException",
        "AccessDeniedException",
        "AccessDenied",
        "InvalidRequestException",
        "InvalidParameterException",
        "DecryptionFailure",
    }
)


def _secrets_client(secret_id: str) -> Any:
    import boto3

    # An ARN names its region; otherwise the job's (Glue sets AWS_REGION, as stack.env does,
    # and this botocore reads only AWS_DEFAULT_REGION by itself).
    parts = secret_id.split(":")
    region = parts[3] if secret_id.startswith("arn:") and len(parts) > 3 and parts[3] else None
    region = region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    return boto3.client("secretsmanager", region_name=region)


# ---------------------------------------------------------------------------------------------
# The schema's fields
# ---------------------------------------------------------------------------------------------


def _refuse_constant(constant: str) -> Any:
    # NaN and Infinity are not JSON (JSON.parse refuses them); Python's parser would take them.
    raise ValueError(constant)


def _alias(merged: Mapping[str, Any], field_name: str, alias: str) -> Any:
    """``r[field] ?? r[alias]``: the alias when the field is absent or null."""
    value = merged.get(field_name, _ABSENT)
    return merged.get(alias, _ABSENT) if value is _ABSENT or value is None else value


def _required_text(value: Any, name: str, problems: list[str]) -> str | None:
    # An empty string too: the schema's message covers its length check as well.
    if not isinstance(value, str) or not value:
        problems.append(f"{name} is not set")
        return None
    return value


def _optional_text(value: Any, name: str, problems: list[str], *, empty: bool) -> str | None:
    if value is _ABSENT:
        return None
    if not isinstance(value, str):
        problems.append(f"{name} must be a string")
        return None
    if not value and not empty:
        problems.append(f"{name} is empty")
        return None
    return value


def _port(value: Any, problems: list[str]) -> int | None:
    if value is _ABSENT:
        return None
    number = _js_number(value)
    try:
        # As JavaScript holds it: a double (too large a JSON integer is Infinity there).
        as_double = None if number is None else float(number)
    except OverflowError:
        as_double = math.inf
    if as_double is None or not math.isfinite(as_double) or not as_double.is_integer():
        problems.append("port must be an integer")
        return None
    if not 1 <= as_double <= _MAX_PORT:
        problems.append(f"port must be from 1 to {_MAX_PORT}")
        return None
    return int(as_double)


def _js_number(value: Any) -> int | float | None:
    """JavaScript's ``Number(value)`` (``z.coerce.number()``) for what JSON holds; ``None`` for
    NaN. Arrays and objects are refused (JavaScript would coerce ``[5432]``; no secret does)."""
    if isinstance(value, bool):
        return int(value)
    if value is None:
        return 0
    if isinstance(value, int | float):
        return value
    if not isinstance(value, str):
        return None
    text = value.strip(_JS_WHITESPACE)
    if not text:
        return 0
    if _JS_DECIMAL.fullmatch(text):
        return float(text)
    if _JS_RADIX.fullmatch(text):
        return int(text, 0)
    return None


def _options(value: Any, problems: list[str]) -> tuple[tuple[str, str], ...]:
    if value is _ABSENT:
        return ()
    if not isinstance(value, dict):
        problems.append("options must be an object of URL parameters")
        return ()
    rendered: list[tuple[str, str]] = []
    for key in _js_key_order(value):
        text = _js_string(value[key])
        if text is None:
            problems.append(f"options.{key} must be a string, number or boolean")
        else:
            rendered.append((key, text))
    return tuple(rendered)


def _js_key_order(obj: Mapping[str, Any]) -> list[str]:
    """The order JavaScript enumerates an object's keys: array indexes ascending, then the rest
    in insertion order (JSON's order)."""

    def is_index(key: str) -> bool:
        return bool(_ARRAY_INDEX.fullmatch(key)) and int(key) <= _MAX_ARRAY_INDEX

    indexes = sorted((k for k in obj if is_index(k)), key=int)
    return indexes + [k for k in obj if not is_index(k)]


def _js_string(value: Any) -> str | None:
    """``String(value)`` of a string, number or boolean; ``None`` for anything else (and for
    numbers JavaScript holds as infinite, which the schema refuses)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int) and abs(value) <= _MAX_SAFE_INTEGER:
        return str(value)
    if isinstance(value, int | float):
        try:
            number = float(value)
        except OverflowError:
            return None
        return _js_number_string(number) if math.isfinite(number) else None
    return None


def _js_number_string(number: float) -> str:
    """JavaScript's Number::toString: the shortest round-trip digits (Python's ``repr`` finds
    the same), in plain notation from 1e-6 up to 1e21 and in exponent notation outside."""
    if number == 0:
        return "0"
    if number < 0:
        return "-" + _js_number_string(-number)
    _, digit_tuple, exponent = Decimal(repr(number)).normalize().as_tuple()
    assert isinstance(exponent, int)
    digits = "".join(map(str, digit_tuple))
    k = len(digits)
    n = exponent + k
    if k <= n <= 21:
        return digits + "0" * (n - k)
    if 0 < n <= 21:
        return f"{digits[:n]}.{digits[n:]}"
    if -6 < n <= 0:
        return "0." + "0" * -n + digits
    e = n - 1
    mantissa = digits if k == 1 else f"{digits[0]}.{digits[1:]}"
    return f"{mantissa}e{'+' if e >= 0 else '-'}{abs(e)}"


# ---------------------------------------------------------------------------------------------
# URL encoding, as JavaScript's
# ---------------------------------------------------------------------------------------------


def _encode_uri_component(text: str) -> str:
    """``encodeURIComponent``: UTF-8, everything but ``A-Za-z0-9-_.!~*'()`` percent-encoded."""
    return quote(text, safe="!~*'()", encoding="utf-8", errors="strict")


def _form(text: str) -> str:
    """``URLSearchParams``' serializer (application/x-www-form-urlencoded): a space is ``+``,
    everything but ``A-Za-z0-9*-._`` percent-encoded."""
    return (
        quote(text, safe="* ", encoding="utf-8", errors="strict")
        .replace("~", "%7E")
        .replace(" ", "+")
    )
