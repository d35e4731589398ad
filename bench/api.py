"""Partner API under load: list (country + topic filter) and detail beside a static view.

    apt-get install -y wrk          # once; the load generator
    python bench/api.py [--developments 100000] [--duration 10] [--connections 4] [--keep]

In one run, on a scratch PostgreSQL database (chronicle_bench_api, created and dropped
here unless --keep; BENCH_ADMIN_URL names the server):

1. Generates N published developments: each stream's drafted / submitted / published
   events appended through `chronicle.eventstore.store.append`, 5 000 streams per
   transaction, then `projections.rebuild()` derives every read model (no row is written
   by hand). With --keep the database stays, and a later --keep run with the same N
   reuses it.
2. For each cache — the embedded default (per-process memory) and Redis (CACHE_URL, a
   private redis-server started here, as in production) — starts gunicorn with 2 sync
   workers on a free loopback port, with production settings (DEBUG off) and one extra
   URL, /bench/static/, a Django view returning fixed bytes through the same middleware:
   the baseline, measured in the same gunicorn.
3. Asks for every address three times (so each worker has kept its answers), then runs
   wrk (1 thread, --connections, --duration seconds after a 2 s warm-up) with an API key
   against the static view, the list `?country=BY&topic=5g`, and the detail of 200 random
   developments; prints requests/s, p50 and p99 latency, and each API endpoint's
   requests/s as a ratio of the static view's.

Targets (issue 14): list and detail >= 0.5x the static view's requests/s, p99 < 20 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import common

DATABASE = "chronicle_bench_api"
STATIC_BODY = b'{"results": []}' + b" " * 2000
DETAILS = 200  # developments whose detail is read, each asked for before the load: cache hits
COUNTRIES = ["BY", "CN", "RU", "KZ", "AM", "UZ", "VN", "RS", "IN", "BR"]
TOPICS = ["5g", "ict-policy", "industrial-parks", "trade", "education", "ai", "broadband", "satellite", "standards"]
KINDS = ["treaty", "memorandum", "decree", "visit", "meeting", "network-test", "launch", "investment"]
ACTORS = [("Beltelecom", "operator"), ("Huawei", "supplier"), ("ZTE", "supplier"), ("ITU", "organisation")]


# -- the server side: gunicorn imports this module and calls wsgi() ----------------------


def static_bytes(request):
    from django.http import HttpResponse

    return HttpResponse(STATIC_BODY, content_type="application/json")


def __getattr__(name: str):
    # This module is the benchmark server's URLconf: the baseline view, then the project's.
    if name == "urlpatterns":
        from django.urls import include, path

        return [path("bench/static/", static_bytes), path("", include("config.urls"))]
    raise AttributeError(name)


def wsgi():
    from django.conf import settings
    from django.core.wsgi import get_wsgi_application

    application = get_wsgi_application()
    settings.ROOT_URLCONF = "bench.api"
    return application


# -- data ----------------------------------------------------------------------------------


def content(rng: random.Random, index: int) -> dict:
    year = rng.randint(1992, 2025)
    date = rng.choice([str(year), f"{year}-{rng.randint(1, 12):02d}", f"{year}-{rng.randint(1, 12):02d}-15"])
    return {
        "title": f"Cooperation development {index}: {rng.choice(KINDS)} on {rng.choice(TOPICS)}",
        "summary": "Belarus and China agreed to cooperate on telecommunications networks and ICT training.",
        "kind": rng.choice(KINDS),
        "stage": "signed",
        "date": date,
        "countries": rng.sample(COUNTRIES, rng.randint(1, 3)),
        "topics": rng.sample(TOPICS, rng.randint(1, 2)),
        "actors": [{"name": n, "role": r} for n, r in rng.sample(ACTORS, 2)],
        "sources": [{"title": "Report", "publisher": "Ministry", "url": f"https://example.org/{index}"}],
    }


def slug_of(index: int) -> str:
    return f"development-{index:06d}"


def generate(count: int) -> list[str]:
    """Append `count` published developments and rebuild the read models; return their slugs."""
    from django.db import connection, transaction
    from tqdm import tqdm

    from chronicle.developments import commands, projections
    from chronicle.eventstore import store
    from chronicle.eventstore.store import NewEvent

    actor = commands.system_user("bench-api")
    metadata = {"actor": {"id": str(actor.pk), "username": actor.username}, "origin": "command"}
    rng = random.Random(5)
    slugs = []
    with tqdm(total=count, unit="development", desc="appending", file=sys.stderr) as bar:
        for start in range(0, count, 5000):
            with transaction.atomic():
                for index in range(start, min(start + 5000, count)):
                    slug = slug_of(index)
                    events = [
                        NewEvent("development.drafted", {"slug": slug, "content": content(rng, index)}),
                        NewEvent("development.submitted", {}),
                        NewEvent("development.published", {}),
                    ]
                    correlation = str(uuid.uuid4())
                    meta = {**metadata, "correlation_id": correlation, "causation_id": correlation}
                    store.append(commands.development_id_for(slug), 0, events, meta)
                    slugs.append(slug)
                    bar.update()
    started = time.perf_counter()
    developments, events = projections.rebuild()
    print(f"rebuilt {developments} developments from {events} events in {time.perf_counter() - started:.1f} s")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return slugs


def api_key() -> str:
    from chronicle.api.models import ApiKey
    from chronicle.developments import commands

    _, secret = ApiKey.issue(name="benchmark", owner=commands.system_user("bench-api"))
    return secret


# -- load ------------------------------------------------------------------------------------

REPORT = """
done = function(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.status + summary.errors.timeout
  io.write(string.format('RESULT {"requests": %d, "seconds": %f, "p50_ms": %f, "p99_ms": %f, "errors": %d}\\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1e3, latency:percentile(99) / 1e3, errors))
end
"""


def lua_script(paths: list[str], folder: Path) -> Path:
    script = folder / f"paths-{len(paths)}-{abs(hash(paths[0]))}.lua"
    listed = ",\n".join(json.dumps(p) for p in paths)
    script.write_text(
        f"local paths = {{{listed}}}\n"
        "math.randomseed(5)\n"
        "request = function() return wrk.format('GET', paths[math.random(#paths)]) end\n" + REPORT
    )
    return script


def wrk(base: str, paths: list[str], key: str, seconds: int, connections: int, folder: Path) -> dict:
    script = lua_script(paths, folder)
    command = ["wrk", "-t1", f"-c{connections}", "-s", str(script), "-H", f"Authorization: Api-Key {key}"]
    subprocess.run([*command, "-d2s", base], check=True, capture_output=True)  # warm-up
    output = subprocess.run([*command, f"-d{seconds}s", base], check=True, capture_output=True, text=True).stdout
    line = next(line for line in output.splitlines() if line.startswith("RESULT "))
    result = json.loads(line.removeprefix("RESULT "))
    result["rps"] = result["requests"] / result["seconds"]
    return result


def check(base: str, path: str, key: str) -> None:
    """Load means nothing unless the endpoint answers 200 with real content."""
    request = urllib.request.Request(base + path, headers={"Authorization": f"Api-Key {key}"})  # noqa: S310
    with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 (loopback only)
        body = response.read()
    if response.status != 200 or len(body) < 1000:
        raise SystemExit(f"{path} answered {response.status} with {len(body)} bytes")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def serve(url: str, port: int, cache_url: str) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "CACHE_URL": cache_url,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "API_RATE_PARTNER": "100000000/minute",
        "LOG_LEVEL": "WARNING",
        "SECURE_SSL_REDIRECT": "false",  # plain HTTP on loopback
    }
    gunicorn = Path(sys.executable).with_name("gunicorn")
    server = subprocess.Popen(
        [str(gunicorn), "bench.api:wsgi()", "--workers", "2", "--bind", f"127.0.0.1:{port}", "--log-level", "warning"],
        cwd=common.ROOT,
        env=env,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return server
        except OSError:
            time.sleep(0.2)
    server.kill()
    raise SystemExit("gunicorn did not start")


def published_count() -> int:
    from chronicle.developments.models import PublicDevelopment

    return PublicDevelopment.objects.count()


def measure(url: str, cache_url: str, slugs: list[str], key: str, args) -> dict[str, dict]:
    port = free_port()
    server = serve(url, port, cache_url)
    base = f"http://127.0.0.1:{port}"
    sample = random.Random(7).sample(slugs, min(DETAILS, len(slugs)))
    scenarios = {
        "static view": ["/bench/static/"],
        "list ?country=BY&topic=5g": ["/api/v1/developments/?country=BY&topic=5g"],
        f"detail (random of {len(sample)})": [f"/api/v1/developments/{slug}/" for slug in sample],
    }
    results = {}
    try:
        with tempfile.TemporaryDirectory() as folder:
            for name, paths in scenarios.items():
                for path in paths * 3:  # each gunicorn worker keeps the answers (per-process memory)
                    check(base, path, key)
                results[name] = wrk(base, paths, key, args.duration, args.connections, Path(folder))
    finally:
        server.terminate()
        server.wait(timeout=30)
    return results


def report(cache: str, results: dict[str, dict]) -> None:
    static = results["static view"]["rps"]
    print(f"\ncache: {cache}")
    print(f"{'endpoint':28} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'x static':>9} {'errors':>7}")
    for name, r in results.items():
        print(
            f"{name:28} {r['rps']:9.0f} {r['p50_ms']:8.2f} {r['p99_ms']:8.2f} {r['rps'] / static:9.2f} {r['errors']:7d}"
        )
    for name, r in results.items():
        if name != "static view":
            ratio, p99 = r["rps"] / static, r["p99_ms"]
            print(
                f"targets, {name}: >= 0.5x static {'met' if ratio >= 0.5 else 'MISSED'} ({ratio:.2f}x); "
                f"p99 < 20 ms {'met' if p99 < 20 else 'MISSED'} ({p99:.1f} ms)"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--developments", type=int, default=100_000)
    parser.add_argument("--duration", type=int, default=10, help="seconds of load per endpoint")
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--keep", action="store_true", help="keep the database, and reuse one kept before")
    args = parser.parse_args()

    url = common.database_url(DATABASE)
    reuse = args.keep and common.database_exists(DATABASE)
    if not reuse:
        common.recreate_database(DATABASE)
        common.migrate(url)
    try:
        common.setup_django(url)
        if reuse and published_count() != args.developments:
            raise SystemExit(f"{DATABASE} holds {published_count()} developments: drop it, or ask for that many")
        slugs = generate(args.developments) if not reuse else [slug_of(i) for i in range(args.developments)]
        key = api_key()
        from django.db import connections

        from tests.hardening.private_redis import private_redis  # reads settings: after setup_django

        connections.close_all()
        results = {"memory (embedded default)": measure(url, "", slugs, key, args)}
        with private_redis() as redis_server:
            results["Redis (CACHE_URL, as in production)"] = measure(url, redis_server.url, slugs, key, args)
        print(
            f"\n{args.developments} developments; gunicorn 2 workers; wrk 1 thread, {args.connections} connections, "
            f"{args.duration} s"
        )
        for cache, measured in results.items():
            report(cache, measured)
    finally:
        if not args.keep:
            common.drop_database(DATABASE)


if __name__ == "__main__":
    main()
