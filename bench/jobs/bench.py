"""What the job-run log costs per run: a no-op job run N times in immediate mode with the recorder attached
(one INSERT + one UPDATE per run) and detached, alternating `--repeat` times; median per-run time of each.

    python -m bench.jobs.bench                                   # a scratch SQLite file, 2,000 runs
    python -m bench.jobs.bench --database-url postgresql+psycopg://postgres@127.0.0.1:5432/bench_jobs

The database's tables are dropped and created again (names starting with `test` are refused).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from portal import create_app
from portal.config import TestingConfig
from portal.extensions import db
from portal.jobs import huey, job, recorder


@job()
def bench_noop(value):
    return value


def _run(count: int) -> float:
    start = time.perf_counter()
    for n in range(count):
        bench_noop(n)
    return (time.perf_counter() - start) / count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="")
    parser.add_argument("--runs", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    url = args.database_url or f"sqlite:///{Path(tempfile.mkdtemp()) / 'bench-jobs.sqlite'}"
    if url.rsplit("/", 1)[-1].startswith("test"):
        raise SystemExit("refusing a test database")
    if url.startswith("postgresql"):
        from bench.scratch import ensure_database

        ensure_database(url)
    app = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=url, RATELIMIT_ENABLED=False)
    with app.app_context():
        db.drop_all()
        db.create_all()
        with_log, without = [], []
        for _ in range(args.repeat):
            recorder.connect(huey)
            with_log.append(_run(args.runs))
            huey.disconnect_signal(recorder.record)
            without.append(_run(args.runs))
        recorder.connect(huey)
        base, logged = statistics.median(without), statistics.median(with_log)
        print(f"{url.split('://')[0]}: {args.runs} runs x {args.repeat}")
        print(f"  without the run log: {base * 1e3:.3f} ms/run")
        print(
            f"  with the run log:    {logged * 1e3:.3f} ms/run  (+{(logged - base) * 1e3:.3f} ms: 1 insert + 1 update)"
        )
        db.drop_all()


if __name__ == "__main__":
    main()
