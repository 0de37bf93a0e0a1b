"""Job errors must say retryable or terminal, as the TypeScript PipelineError does."""

from __future__ import annotations

import pytest

from lakehouse_glue import (
    GlueJobError,
    JobTablesError,
    SchemaMismatchError,
    SourceShrankError,
    SourceTableMissingError,
    SourceUnavailableError,
)


@pytest.mark.parametrize(
    ("error_type", "retryable"),
    [
        (GlueJobError, False),
        (SourceTableMissingError, False),
        (SchemaMismatchError, False),
        (SourceUnavailableError, True),
        (JobTablesError, False),
        (SourceShrankError, False),
    ],
)
def test_each_error_is_retryable_or_terminal(
    error_type: type[GlueJobError], retryable: bool
) -> None:
    error = (
        SourceShrankError("boom", table="ddc.device", lake_rows=2, source_rows=0)
        if error_type is SourceShrankError
        else error_type("boom", table="ddc.device")
    )

    assert error.retryable is retryable
    assert error.table == "ddc.device"
    assert isinstance(error, GlueJobError)
    assert type(error).__name__.endswith("Error")


def test_message_names_class_table_and_kind() -> None:
    error = SchemaMismatchError("column last_ip is INT, registry says STRING", table="ddc.device")

    assert str(error) == (
        "SchemaMismatchError: column last_ip is INT, registry says STRING "
        "[table=ddc.device] (terminal)"
    )


def _lookup_table() -> None:
    try:
        raise ConnectionResetError("reset by peer")
    except ConnectionResetError as exc:
        raise SourceTableMissingError("catalog lookup failed", retryable=True) from exc


def test_instance_can_override_retryable_and_keeps_cause() -> None:
    with pytest.raises(SourceTableMissingError) as caught:
        _lookup_table()

    assert caught.value.retryable is True
    assert isinstance(caught.value.__cause__, ConnectionResetError)
    assert str(caught.value) == "SourceTableMissingError: catalog lookup failed (retryable)"
    # The class default is untouched by the instance override.
    assert SourceTableMissingError.retryable is False
