"""The public timeline with its chart, beside the same page with the list alone.

    python bench/timeline.py [--sizes 1000 100000] [--repeat 15]

For each size, in one run, on a scratch PostgreSQL database (chronicle_bench_timeline,
created and dropped here; BENCH_ADMIN_URL names the server): generates that many published
developments the way bench/api.py does (events appended, read models rebuilt), then renders
`/`, `/?country=BY` and `/?year=2015` through Django's full request stack with production
settings, first without the chart (the baseline: the list alone), then with it, alternating,
and prints the median time of each and the ratio. Up to charts.MAX_MARKS developments get
a mark each; above that, counts per period come from one query grouped by date.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import common

DATABASE = "chronicle_bench_timeline"
PAGES = ["/", "/?country=BY", "/?year=2015"]


def measure(paths: list[str], repeat: int) -> dict[str, tuple[float, float, str]]:
    from django.test import Client

    from chronicle.public import views

    client = Client()
    chart_of = views.timeline_chart
    results = {}
    for path in paths:
        timings: dict[bool, list[float]] = {False: [], True: []}
        drawn = ""
        for _ in range(repeat + 1):  # the first round warms up
            for with_chart in (False, True):
                views.timeline_chart = chart_of if with_chart else (lambda developments, count: None)
                started = time.perf_counter()
                response = client.get(path, HTTP_HOST="127.0.0.1")
                timings[with_chart].append(time.perf_counter() - started)
                if response.status_code != 200:
                    raise SystemExit(f"{path} answered {response.status_code}")
                if with_chart:
                    page = response.content.decode()
                    if '<figure class="chart">' not in page:
                        raise SystemExit(f"{path} drew no chart")
                    drawn = "counts per period" if 'class="bin"' in page else "one mark each"
        views.timeline_chart = chart_of
        results[path] = (statistics.median(timings[False][1:]), statistics.median(timings[True][1:]), drawn)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 100_000])
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    os.environ["SECURE_SSL_REDIRECT"] = "false"

    url = common.database_url(DATABASE)
    report = []
    try:
        for size in args.sizes:
            common.recreate_database(DATABASE)
            common.migrate(url)
            if "django" not in sys.modules:
                common.setup_django(url)
            from django.db import connections

            from bench.api import generate

            connections.close_all()
            generate(size)
            for path, (alone, with_chart, drawn) in measure(PAGES, args.repeat).items():
                report.append((size, path, alone, with_chart, drawn))
            connections.close_all()
    finally:
        common.drop_database(DATABASE)

    print(f"\nmedian of {args.repeat} renders each, list alone and with the chart alternating, same process")
    print(f"{'developments':>12}  {'page':14} {'list alone ms':>14} {'with chart ms':>14} {'ratio':>6}  chart")
    for size, path, alone, with_chart, drawn in report:
        ratio = with_chart / alone
        print(f"{size:12d}  {path:14} {alone * 1000:14.1f} {with_chart * 1000:14.1f} {ratio:6.2f}  {drawn}")


if __name__ == "__main__":
    main()
