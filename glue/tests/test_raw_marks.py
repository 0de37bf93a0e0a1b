"""Tagging curated raw objects (``lakehouse_glue.curate.raw_marks``) against the local S3 (moto).

Each test has a bucket of its own, under a fresh name, deleted afterwards. The marker makes its
client as the job does (``AWS_ENDPOINT_URL`` points it at moto); the endpoint is checked first,
so these tests never reach a real account.
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from moto_secrets import local_endpoint

from lakehouse_glue.curate.raw_marks import MarkResult, RawMarker, raw_marker
from lakehouse_glue.job_tables import ObjectTag

TAG = ObjectTag("lakehouse-curated", "true")
WINDOW = "alarm/idDevice=7/1704067200000.parquet"
PACK = "alarm/packs/20240101T000000000Z-0123456789ab.parquet"


@pytest.fixture
def s3() -> Any:
    import boto3

    local_endpoint()
    return boto3.client("s3", region_name=os.environ.get("AWS_REGION", "eu-west-1"))


@pytest.fixture
def bucket(s3: Any) -> Iterator[str]:
    name = f"raw-marks-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(
        Bucket=name,
        CreateBucketConfiguration={"LocationConstraint": s3.meta.region_name},
    )
    yield name
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=name):
        for item in page.get("Contents", []):
            s3.delete_object(Bucket=name, Key=item["Key"])
    s3.delete_bucket(Bucket=name)


def _put(s3: Any, bucket: str, *keys: str) -> None:
    for key in keys:
        s3.put_object(Bucket=bucket, Key=key, Body=b"PAR1")


def _tags(s3: Any, bucket: str, key: str) -> list[dict[str, str]]:
    tags: list[dict[str, str]] = s3.get_object_tagging(Bucket=bucket, Key=key)["TagSet"]
    return tags


CURATED = [{"Key": TAG.key, "Value": TAG.value}]


def test_curated_objects_carry_exactly_the_tag(
    s3: Any, bucket: str, caplog: pytest.LogCaptureFixture
) -> None:
    _put(s3, bucket, WINDOW, PACK, "alarm/idDevice=8/1704067200000.parquet")
    marker = RawMarker(f"s3://{bucket}/", TAG)
    with caplog.at_level(logging.INFO, logger="lakehouse_glue.curate.raw_marks"):
        assert marker([WINDOW, PACK]) == MarkResult(marked=2)

    assert _tags(s3, bucket, WINDOW) == CURATED
    assert _tags(s3, bucket, PACK) == CURATED
    # An object curate has not committed yet keeps no tag: the lifecycle keeps it.
    assert _tags(s3, bucket, "alarm/idDevice=8/1704067200000.parquet") == []
    assert "2 marked, 0 missing, 0 failed" in caplog.text


def test_marking_again_changes_nothing(s3: Any, bucket: str) -> None:
    """A rerun, or an object a later run lists again, is tagged again: the same single tag."""
    _put(s3, bucket, WINDOW)
    marker = RawMarker(f"s3://{bucket}", TAG)
    assert marker([WINDOW]) == MarkResult(marked=1)
    assert marker([WINDOW]) == MarkResult(marked=1)
    assert _tags(s3, bucket, WINDOW) == CURATED


def test_an_object_gone_already_is_counted_and_the_others_are_tagged(
    s3: Any, bucket: str, caplog: pytest.LogCaptureFixture
) -> None:
    _put(s3, bucket, WINDOW, PACK)
    gone = "alarm/idDevice=9/1704067200000.parquet"
    with caplog.at_level(logging.WARNING, logger="lakehouse_glue.curate.raw_marks"):
        result = RawMarker(f"s3://{bucket}/", TAG)([WINDOW, gone, PACK])

    assert result == MarkResult(marked=2, missing=1)
    assert _tags(s3, bucket, WINDOW) == _tags(s3, bucket, PACK) == CURATED
    [warning] = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert f"s3://{bucket}/{gone} is gone" in warning.getMessage()


@pytest.mark.parametrize("root", ["s3://{bucket}/some/prefix/", "s3://{bucket}/some/prefix"])
def test_a_raw_root_with_a_prefix_tags_the_objects_under_it(
    s3: Any, bucket: str, root: str
) -> None:
    """``--raw_location`` may name a folder of the bucket: keys are under it, as curate reads."""
    _put(s3, bucket, f"some/prefix/{WINDOW}", WINDOW)
    assert RawMarker(root.format(bucket=bucket), TAG)([WINDOW]) == MarkResult(marked=1)
    assert _tags(s3, bucket, f"some/prefix/{WINDOW}") == CURATED
    assert _tags(s3, bucket, WINDOW) == []


def test_a_bucket_that_does_not_exist_fails_the_marks_and_never_the_job(
    s3: Any, caplog: pytest.LogCaptureFixture
) -> None:
    name = f"raw-marks-missing-{uuid.uuid4().hex[:12]}"
    with caplog.at_level(logging.WARNING, logger="lakehouse_glue.curate.raw_marks"):
        result = RawMarker(f"s3://{name}/", TAG)([WINDOW, PACK])

    assert result == MarkResult(failed=2)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert sorted(warnings) == sorted(
        f"raw object s3://{name}/{key} not tagged: NoSuchBucket" for key in (WINDOW, PACK)
    )


def test_many_objects_are_all_tagged(s3: Any, bucket: str) -> None:
    """A commit's worth of objects goes through the thread pool: each once, none lost."""
    keys = [f"alarm/idDevice={d}/1704067200000.parquet" for d in range(200)]
    _put(s3, bucket, *keys)
    assert RawMarker(f"s3://{bucket}/", TAG, workers=16)(keys) == MarkResult(marked=200)
    assert all(_tags(s3, bucket, key) == CURATED for key in keys)


def test_nothing_to_mark_is_no_failure() -> None:
    """No keys, no request (not even to a bucket that does not exist)."""
    assert RawMarker("s3://no-such-bucket/", TAG)([]) == MarkResult()


def test_only_a_raw_layer_in_s3_is_marked() -> None:
    """A local raw folder is expired by no lifecycle: the job marks nothing there."""
    assert raw_marker("/tmp/raw", TAG) is None
    assert raw_marker("file:///tmp/raw", TAG) is None
    marker = raw_marker("s3://raw-bucket/some/prefix", TAG)
    assert isinstance(marker, RawMarker)
    assert (marker.bucket, marker.object_key(WINDOW)) == ("raw-bucket", f"some/prefix/{WINDOW}")
    assert RawMarker("s3://raw-bucket", TAG).object_key(WINDOW) == WINDOW
    with pytest.raises(ValueError, match="names no bucket"):
        RawMarker("s3:///raw", TAG)
