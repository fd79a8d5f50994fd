"""Scratch PostgreSQL databases for the benchmarks: each is one command, so it creates its own."""

from __future__ import annotations


def ensure_database(url: str) -> None:
    """CREATE DATABASE for `url` (either driver spelling) when it does not exist yet."""
    import psycopg
    from psycopg import sql

    base, name = url.replace("postgresql+psycopg://", "postgresql://").rsplit("/", 1)
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
