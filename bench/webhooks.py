"""Webhook fan-out benchmark: a real Celery worker on Redis delivering to endpoints on loopback.

    python bench/webhooks.py [--endpoints 100] [--publications 30] [--burst 20]

In one run, on a scratch PostgreSQL database (chronicle_bench_webhooks, created and
dropped here; BENCH_ADMIN_URL names the server):

1. Starts `--endpoints` receivers (one HTTP server each, on loopback) and registers an
   endpoint for each.
2. Baseline: the same number of signed POSTs of a same-sized payload, sent with urllib by
   as many threads as a delivery pass uses (WEBHOOKS_CONCURRENCY), with no database: what
   the network and HTTP cost alone; prints deliveries/s.
3. Starts a Celery worker (solo pool) on Redis, publishes `--publications` developments one
   by one through the command layer and measures, for each, commit → first delivery and
   commit → delivered to every endpoint; prints p50 / p99.
4. Publishes `--burst` developments back to back and measures deliveries/s until every
   endpoint has every one; prints the ratio to the baseline.
5. Checks every received request with the `standardwebhooks` library.

Target: publish → first delivery p99 < 2 s.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import drop_database, recreate_database  # noqa: E402
from bench.feeds import REDIS_DB, content, percentile, start_worker  # noqa: E402

DATABASE = "chronicle_bench_webhooks"


class Receivers:
    """HTTP servers on loopback recording (webhook-id → arrival time) and every request."""

    def __init__(self, count: int) -> None:
        self.arrivals: dict[str, list[float]] = {}
        self.requests: list[tuple[int, bytes, dict]] = []
        self.lock = threading.Lock()
        self.servers = [self._server(index) for index in range(count)]

    def _server(self, index: int) -> ThreadingHTTPServer:
        receivers = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                now = time.monotonic()
                with receivers.lock:
                    receivers.arrivals.setdefault(self.headers.get("webhook-id", ""), []).append(now)
                    receivers.requests.append((index, body, dict(self.headers)))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return server

    def urls(self) -> list[str]:
        return [f"http://127.0.0.1:{server.server_address[1]}/hooks" for server in self.servers]

    def wait(self, webhook_id: str, count: int, timeout: float = 60) -> list[float]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                seen = list(self.arrivals.get(webhook_id, []))
            if len(seen) >= count:
                return seen
            time.sleep(0.002)
        raise SystemExit(f"{webhook_id} reached {len(seen)} of {count} endpoints within {timeout} s")

    def stop(self) -> None:
        for server in self.servers:
            server.shutdown()


def baseline(urls: list[str], secret: str, threads: int) -> float:
    """Deliveries/s of bare signed POSTs to every URL, `threads` at a time, no database."""
    from chronicle.webhooks import signing

    body = json.dumps({"type": "development.published", "data": {"position": 1, "links": {"x": "y" * 300}}}).encode()

    def post(url: str) -> None:
        stamp = int(time.time())
        headers = {
            "Content-Type": "application/json",
            "webhook-id": "msg_baseline",
            "webhook-timestamp": str(stamp),
            "webhook-signature": signing.signature(secret, "msg_baseline", stamp, body),
        }
        request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310
        with urllib.request.urlopen(request, timeout=10):  # noqa: S310 (loopback)
            pass

    rounds = 5
    started = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        for _ in range(rounds):
            list(pool.map(post, urls))
    return rounds * len(urls) / (time.perf_counter() - started)


def publish(editor, index: int, rng: random.Random) -> tuple[str, float]:
    """Publish one development; return its webhook-id and the monotonic time of its commit."""
    from django.db import transaction

    from chronicle.developments import commands

    outcome = commands.draft_development(content(index, rng), actor=editor, slug=f"hook-{index}", origin="command")
    commands.submit_development(outcome.development_id, actor=editor, origin="command")
    committed: list[float] = []
    with transaction.atomic():
        transaction.on_commit(lambda: committed.append(time.monotonic()))  # before the delivery pass is queued
        published = commands.publish_development(outcome.development_id, actor=editor, origin="command")
    return f"msg_{published.events[-1].event_id.hex}", committed[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--endpoints", type=int, default=100)
    parser.add_argument("--publications", type=int, default=30)
    parser.add_argument("--burst", type=int, default=20)
    args = parser.parse_args()

    scratch = Path(tempfile.mkdtemp(prefix="chronicle-bench-webhooks-"))
    url = recreate_database(DATABASE)
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "CELERY_BROKER_URL": f"redis://127.0.0.1:6379/{REDIS_DB}",
        "CHRONICLE_VAR_DIR": str(scratch),
        "DEBUG": "false",
        "SECRET_KEY": "benchmark-only",
        "ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "WEBHOOKS_ALLOW_PRIVATE_ADDRESSES": "true",
        "WEBHOOKS_CONCURRENCY": "16",
    }
    os.environ.update(env)
    receivers = Receivers(args.endpoints)
    worker = None
    try:
        subprocess.run([sys.executable, "manage.py", "migrate", "--verbosity", "0"], cwd=ROOT, env=env, check=True)
        import django

        django.setup()
        import redis
        from django.conf import settings
        from django.contrib.auth.models import Permission
        from standardwebhooks.webhooks import Webhook

        from chronicle.developments import commands
        from chronicle.webhooks import endpoints

        redis.Redis.from_url(env["CELERY_BROKER_URL"]).flushdb()
        editor = commands.system_user("bench-editor")
        editor.user_permissions.set(Permission.objects.filter(content_type__app_label="developments"))
        secrets = {}
        for index, endpoint_url in enumerate(receivers.urls()):
            _, secrets[index] = endpoints.register(endpoint_url, description=f"bench {index}")

        base_rate = baseline(receivers.urls(), secrets[0], settings.WEBHOOKS_CONCURRENCY)
        receivers.arrivals.clear()
        receivers.requests.clear()
        print(f"Baseline: bare signed POSTs, {settings.WEBHOOKS_CONCURRENCY} threads: {base_rate:,.0f} deliveries/s")

        worker = start_worker(env, scratch / "worker.log")
        rng = random.Random(3)
        first, every = [], []
        print(f"Publishing {args.publications} developments one by one to {args.endpoints} endpoints …", flush=True)
        for index in range(args.publications):
            webhook_id, committed = publish(editor, index, rng)
            arrivals = receivers.wait(webhook_id, args.endpoints)
            first.append(min(arrivals) - committed)
            every.append(max(arrivals) - committed)
            time.sleep(rng.uniform(0, 0.05))
        for label, values in (("first delivery", first), (f"all {args.endpoints} endpoints", every)):
            print(
                f"  commit → {label:<18} p50 {percentile(values, 0.5) * 1000:7.1f} ms   "
                f"p99 {percentile(values, 0.99) * 1000:7.1f} ms   max {max(values) * 1000:7.1f} ms"
            )

        print(f"Burst: {args.burst} publications back to back …", flush=True)
        started = time.monotonic()
        ids = [publish(editor, 10_000 + index, rng)[0] for index in range(args.burst)]
        last = max(max(receivers.wait(webhook_id, args.endpoints)) for webhook_id in ids)
        rate = args.burst * args.endpoints / (last - started)
        print(
            f"  {args.burst * args.endpoints:,} deliveries in {last - started:.1f} s = {rate:,.0f} deliveries/s "
            f"(baseline {base_rate:,.0f}/s, ratio {rate / base_rate:.2f})"
        )

        bad = 0
        for index, body, headers in receivers.requests:
            try:
                Webhook(secrets[index]).verify(body, headers)
            except Exception:
                bad += 1
        duplicates = sum(len(times) - 1 for times in receivers.arrivals.values() if len(times) > args.endpoints)
        print(f"Checked {len(receivers.requests):,} requests with standardwebhooks: {bad} bad; {duplicates} repeats")
        target = percentile(first, 0.99)
        print(f"publish → first delivery p99 {target * 1000:.0f} ms (target < 2000 ms)")
    finally:
        if worker is not None:
            worker.terminate()
            worker.wait(15)
        receivers.stop()
        from django.db import connections

        connections.close_all()
        drop_database(DATABASE)
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
