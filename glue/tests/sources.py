"""Throwaway sources on the local stack for the curate and analytics tests (and the benchmark).

Each ``Sources`` owns its own ``ddc`` and ``support`` PostgreSQL databases and its own MongoDB
database, so these tests never race the TypeScript integration tests on the default ones. Data
arrives the way production's does: the TypeScript CLI loads the synthetic snapshot and its
worker writes the raw Parquet objects and the ledger rows.
"""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import pymongo

REPO_ROOT = Path(__file__).resolve().parents[2]
LAKEHOUSE_SH = REPO_ROOT / "scripts" / "lakehouse.sh"


def _env(name: str, default: str) -> str:
    return os.environ.get(name) or default


@dataclass
class Sources:
    prefix: str = field(default_factory=lambda: f"cur_{uuid.uuid4().hex[:8]}")
    pg_port: str = field(default_factory=lambda: _env("LAKEHOUSE_PG_PORT", "55432"))
    mongo_port: str = field(default_factory=lambda: _env("LAKEHOUSE_MONGO_PORT", "27018"))
    pg_user: str = field(default_factory=lambda: _env("LAKEHOUSE_PG_USER", "lakehouse"))
    pg_password: str = field(default_factory=lambda: _env("LAKEHOUSE_PG_PASSWORD", "lakehouse"))

    @property
    def ddc_db(self) -> str:
        return f"{self.prefix}_ddc"

    @property
    def support_db(self) -> str:
        return f"{self.prefix}_support"

    @property
    def mongo_db(self) -> str:
        return self.prefix

    def pg_url(self, db: str) -> str:
        return f"postgres://{self.pg_user}:{self.pg_password}@127.0.0.1:{self.pg_port}/{db}"

    def jdbc_url(self, db: str) -> str:
        return f"jdbc:postgresql://127.0.0.1:{self.pg_port}/{db}"

    @property
    def mongo_url(self) -> str:
        return f"mongodb://127.0.0.1:{self.mongo_port}/"

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "DDC_DATABASE_URL": self.pg_url(self.ddc_db),
            "SUPPORT_DATABASE_URL": self.pg_url(self.support_db),
            "MONGODB_URL": self.mongo_url,
            "MONGODB_DATABASE": self.mongo_db,
            "LOG_LEVEL": "warn",
        }

    def create(self) -> None:
        with psycopg.connect(self.pg_url("postgres"), autocommit=True) as conn:
            for db in (self.ddc_db, self.support_db):
                conn.execute(f"CREATE DATABASE {db}")

    def drop(self) -> None:
        with psycopg.connect(self.pg_url("postgres"), autocommit=True) as conn:
            for db in (self.ddc_db, self.support_db):
                conn.execute(f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")
        with self.mongo() as client:
            client.drop_database(self.mongo_db)

    def cli(self, *args: str) -> str:
        """Run the TypeScript CLI against these databases; fails loudly with its output."""
        done = subprocess.run(
            ["bash", str(LAKEHOUSE_SH), *args],
            cwd=REPO_ROOT,
            env=self.env(),
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(
                f"lakehouse.sh {' '.join(args)} failed ({done.returncode}):\n"
                f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
            )
        return done.stdout

    def mongo(self) -> pymongo.MongoClient[dict[str, Any]]:
        return pymongo.MongoClient(self.mongo_url, tz_aware=True)

    def ddc(self) -> psycopg.Connection[Any]:
        return psycopg.connect(self.pg_url(self.ddc_db), autocommit=True)

    def support(self) -> psycopg.Connection[Any]:
        return psycopg.connect(self.pg_url(self.support_db), autocommit=True)

    def load(
        self, devices: int, days: int, seed: int = 11, collections: Sequence[str] | None = None
    ) -> None:
        """Load the synthetic snapshot; ``collections`` limits what goes to MongoDB (``ddc`` is
        always whole), so a large alarm history loads in minutes."""
        only = ["--collections", ",".join(collections)] if collections else []
        self.cli(
            "snapshot", "load", "--reset", "--devices", str(devices), "--days", str(days),
            "--seed", str(seed), *only,
        )  # fmt: skip
        self.cli("migrate")

    def ingest(self, raw_dir: Path, *extra: str) -> str:
        return self.cli("ingest", "--raw-dir", str(raw_dir), *extra)

    def job_tables(self, path: Path) -> Path:
        path.write_text(self.cli("registry", "job-tables"), encoding="utf-8")
        return path
