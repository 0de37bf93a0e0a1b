"""Tags the raw objects the curate job has committed, for the raw bucket's lifecycle (ADR 0024).

The lifecycle expires early only the objects carrying the job tables' ``rawObjects.curatedTag``
and keeps the rest until its backstop, so a curate that fails for days loses no raw object it has
not read. A tag that could not be put only keeps its object longer: tagging never fails the job,
it counts what it could not do and logs each object by key.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Literal

from lakehouse_glue.job_tables import ObjectTag

log = logging.getLogger(__name__)

#: Objects tagged at once: one request each, and S3 answers each in tens of milliseconds.
DEFAULT_WORKERS = 16
#: Attempts per object, throttling and server errors retried by botocore's standard mode.
MAX_ATTEMPTS = 5

Outcome = Literal["marked", "missing", "failed"]


@dataclass(frozen=True)
class MarkResult:
    """What one call did: objects tagged, gone (``NoSuchKey``: expired or deleted already), and
    not tagged for any other reason."""

    marked: int = 0
    missing: int = 0
    failed: int = 0


def _s3_client(workers: int) -> Any:
    # boto3 ships with Glue and with the local venv; imported here so that only this path pays.
    # AWS_ENDPOINT_URL points it at moto locally.
    import boto3
    from botocore.config import Config

    config = Config(
        retries={"mode": "standard", "max_attempts": MAX_ATTEMPTS},
        # One connection per thread, or urllib3 discards the ones above its default of 10.
        max_pool_connections=workers,
    )
    # Glue sets AWS_REGION, as stack.env does; this botocore reads only AWS_DEFAULT_REGION.
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    return boto3.client("s3", region_name=region, config=config)


class RawMarker:
    """Puts ``tag`` on objects under the raw layer's root ``s3://bucket/`` or
    ``s3://bucket/prefix/`` (``--raw_location``), the objects curate read at
    ``curate.object_uri``. Called with object keys, as the ledger names them.

    ``PutObjectTagging`` replaces an object's whole tag set: the worker writes raw objects with no
    tags, so this one is all they carry. A boto3 client is thread-safe and is shared by the
    threads; it is made on the first call, so building a marker needs no AWS configuration.
    """

    def __init__(self, raw_root: str, tag: ObjectTag, workers: int = DEFAULT_WORKERS) -> None:
        if not raw_root.startswith("s3://"):
            raise ValueError(f"raw root {raw_root!r} is not an s3:// URI")
        bucket, _, prefix = raw_root.removeprefix("s3://").partition("/")
        if not bucket:
            raise ValueError(f"raw root {raw_root!r} names no bucket")
        self.raw_root = raw_root
        self.bucket = bucket
        # As ``curate.object_uri`` joins a root and a key.
        stem = prefix.rstrip("/")
        self.prefix = f"{stem}/" if stem else ""
        self.tag = tag
        self.workers = max(1, workers)
        self._client: Any = None

    def object_key(self, key: str) -> str:
        """The S3 key of the object ``key`` names under the root."""
        return self.prefix + key

    def __call__(self, keys: Sequence[str]) -> MarkResult:
        """Tag the objects of ``keys``; never raises."""
        if not keys:
            return MarkResult()
        try:
            if self._client is None:
                self._client = _s3_client(self.workers)
        except Exception as error:  # no region, a bad endpoint: the environment's setup
            log.warning(
                "raw objects not tagged %s=%s: no S3 client (%s: %s); %d objects kept until the "
                "lifecycle's backstop",
                self.tag.key,
                self.tag.value,
                type(error).__name__,
                error,
                len(keys),
            )
            return MarkResult(failed=len(keys))
        with ThreadPoolExecutor(self.workers, thread_name_prefix="raw-marks") as pool:
            outcomes = list(pool.map(self._mark, keys))
        result = MarkResult(
            marked=outcomes.count("marked"),
            missing=outcomes.count("missing"),
            failed=outcomes.count("failed"),
        )
        log.info(
            "raw objects tagged %s=%s under %s: %d marked, %d missing, %d failed",
            self.tag.key,
            self.tag.value,
            self.raw_root,
            result.marked,
            result.missing,
            result.failed,
        )
        return result

    def _mark(self, key: str) -> Outcome:
        from botocore.exceptions import ClientError

        s3_key = self.object_key(key)
        try:
            self._client.put_object_tagging(
                Bucket=self.bucket,
                Key=s3_key,
                Tagging={"TagSet": [{"Key": self.tag.key, "Value": self.tag.value}]},
            )
        except ClientError as error:
            code = str(error.response.get("Error", {}).get("Code", "ClientError"))
            if code == "NoSuchKey":
                log.warning("raw object s3://%s/%s is gone: not tagged", self.bucket, s3_key)
                return "missing"
            log.warning("raw object s3://%s/%s not tagged: %s", self.bucket, s3_key, code)
            return "failed"
        except Exception as error:  # the network, credentials: only keeps the object longer
            log.warning(
                "raw object s3://%s/%s not tagged: %s", self.bucket, s3_key, type(error).__name__
            )
            return "failed"
        return "marked"


def raw_marker(raw_root: str, tag: ObjectTag) -> RawMarker | None:
    """The marker of a raw layer in S3; ``None`` for a local folder, which no lifecycle expires."""
    return RawMarker(raw_root, tag) if raw_root.startswith("s3://") else None
