"""Serving under load on 127.0.0.1: cross-request batching against one forward pass per request, and both
against the offline wrapper, in one run (issue #16).

    python bench/serve.py                                   # the nli_mix model, SNLI test pairs
    python bench/serve.py --model-dir RUN/model --requests 600 --soak 20000 --threads 2
    python bench/serve.py --variant workers=2 --variant workers=1     # two server settings, in one run

What runs, each server a fresh ``scripts/serve.py`` process on a free loopback port:

  offline      ``StanceClassifier.predict_proba`` on all the pairs at once (its own process): the ceiling;
               and in calls of 32 pairs in request order: what one worker can reach on 32 single-pair clients
  batching     ``scripts/serve.py`` as shipped (requests gathered for ``max_wait_ms`` into one forward pass)
  no-batching  ``scripts/serve.py batching=false``: every request its own forward pass (the baseline)

Each ``--variant`` (overrides of both servers, e.g. ``workers=2``) runs both servers again with it, so settings
are compared in one run, each against its own baseline; the soak runs against the first variant's. All the
servers run at once and each load cell visits them in turn (interleaved), so the VM's drift in speed over a
run, which moved one server's numbers by up to a quarter between runs, hits every server alike.

Load: a fixed number of ``POST /v1/pairs`` requests (so every run stops by itself) from ``C`` concurrent
keep-alive connections (an asyncio client in this process), at C = 1, 8 and 32, with single-pair requests and
with 32-pair requests, the pairs taken in turn from the test set. Per cell: requests/s, pairs/s, latency
p50/p95/p99 (ms), failed requests, the share of answers whose labels equal the offline wrapper's, and the
server's RSS at the start and end (from ``/healthz``). Then a soak: ``--soak`` single-pair requests at C = 32
against the batching server with a bad request (each of the API's 413/422 cases in turn) every
``--bad-every`` requests (after a warm-up of a tenth as many): every good request must succeed, every bad
one get its own status, and RSS must not grow. Prints tables and the issue's goals, writes JSON (``--json``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import aiohttp
import httpx
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench/ is not a package
import inference as inference_bench  # noqa: E402

PROJECT_ROOT = inference_bench.PROJECT_ROOT
RESULT_PREFIX = inference_bench.RESULT_PREFIX
CONCURRENCY = (1, 8, 32)
REQUEST_SIZES = (1, 32)
GATHER = max(CONCURRENCY)  # pairs that C=32 single-pair clients hold between them: the most one pass can gather
# (body, expected status) for the soak's bad requests: each client error the API answers.
BAD_REQUESTS = [
    ({"pairs": []}, 422),
    ({"pairs": [{"evidence": "e"}]}, 422),
    ({"pairs": [{"evidence": " ", "claim": "c"}]}, 422),
    ({"pairs": [{"evidence": "e", "claim": "c"}] * 300}, 413),
    ({"pairs": [{"evidence": "e" * 6000, "claim": "c"}]}, 413),
    (b'{"pairs": [', 422),
]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model-dir", default=str(inference_bench.DEFAULT_MODEL), help="a saved model folder")
    parser.add_argument("--data-root", default=inference_bench.DEFAULT_DATA_ROOT, help="paths.data_root")
    parser.add_argument("--data", default="snli", help="data config whose first test set gives the pairs")
    parser.add_argument("--n", type=int, default=2000, help="test pairs to draw requests from")
    parser.add_argument("--requests", type=int, default=600, help="single-pair requests per cell")
    parser.add_argument("--batch-requests", type=int, default=120, help="32-pair requests per cell")
    parser.add_argument("--soak", type=int, default=20000, help="single-pair requests of the soak (0: none)")
    parser.add_argument("--bad-every", type=int, default=50, help="a bad request every N in the soak")
    parser.add_argument("--threads", type=int, default=None, help="the server's CPU threads (default: cores)")
    parser.add_argument("--max-wait-ms", type=float, default=None, help="serve.max_wait_ms (default: the config's)")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a scripts/serve.py override for both servers (repeatable), e.g. pad_to_multiple_of=16",
    )
    parser.add_argument(
        "--variant",
        action="append",
        default=[],
        metavar="KEY=VALUE[,KEY=VALUE]",
        help="run both servers once more with these overrides (repeatable; default: once, as shipped)",
    )
    parser.add_argument("--json", default=str(PROJECT_ROOT / "bench" / "results" / "serve.json"))
    parser.add_argument("--child", choices=["offline"], help=argparse.SUPPRESS)
    parser.add_argument("--pairs-file", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


# ---------------------------------------------------------------------------------------------- offline
def offline(args: argparse.Namespace) -> dict:
    """The wrapper's pairs/s on all the pairs in one call, and in calls of ``GATHER`` pairs in request order
    (each the median of 3 passes after a warm-up); and its labels.

    The second is the reference for 32 single-pair clients, who hold only ``GATHER`` pairs between them: one
    worker can batch at most those, in the order they come, while one offline call sorts all the pairs by
    length and cuts batches of like lengths. (``workers=2`` runs two such passes at once and may pass it.)"""
    from stancekit import StanceClassifier

    pairs = [tuple(p) for p in json.loads(Path(args.pairs_file).read_text())]
    clf = StanceClassifier.from_pretrained(args.model_dir, num_threads=args.threads)
    clf.predict_proba(pairs[:256])
    chunks = [pairs[i : i + GATHER] for i in range(0, len(pairs), GATHER)]

    def timed(run: Callable[[], np.ndarray]) -> tuple[float, np.ndarray]:
        """Median seconds of 3 passes, and the last pass's probabilities."""
        seconds = []
        for _ in range(3):
            start = time.perf_counter()
            probs = run()
            seconds.append(time.perf_counter() - start)
        return float(np.median(seconds)), probs

    whole, probs = timed(lambda: clf.predict_proba(pairs))
    gathered, _ = timed(lambda: np.concatenate([clf.predict_proba(c) for c in chunks]))
    return {
        "pairs_per_second": len(pairs) / whole,
        "gathered_pairs_per_second": len(pairs) / gathered,
        "gather": GATHER,
        "labels": [clf.labels[i] for i in probs.argmax(axis=1)],
        "precision": clf.precision,
    }


# ---------------------------------------------------------------------------------------------- servers
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """``scripts/serve.py`` in a child process on a free loopback port, stopped on exit."""

    def __init__(self, args: argparse.Namespace, run_dir: Path, *overrides: str):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        command = [sys.executable, str(PROJECT_ROOT / "scripts" / "serve.py"), f"model_dir={args.model_dir}"]
        command += [f"port={self.port}", f"num_threads={args.threads}", f"hydra.run.dir={run_dir}"]
        command += [*args.set, *overrides]
        if args.max_wait_ms is not None:
            command.append(f"max_wait_ms={args.max_wait_ms}")
        self.log = open(run_dir.with_suffix(".log"), "w")  # noqa: SIM115 (closed in __exit__)
        self.process = subprocess.Popen(command, cwd=PROJECT_ROOT, stdout=self.log, stderr=subprocess.STDOUT)

    def __enter__(self) -> Server:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited ({self.process.returncode}); see {self.log.name}")
            try:
                httpx.get(self.url + "/healthz", timeout=1).raise_for_status()
                return self
            except httpx.HTTPError:
                time.sleep(0.2)
        raise RuntimeError(f"the server did not answer within 120 s; see {self.log.name}")

    def health(self) -> dict:
        return httpx.get(self.url + "/healthz", timeout=10).json()

    def __exit__(self, *exc: object) -> None:
        self.process.terminate()
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()


# ---------------------------------------------------------------------------------------------- load
async def load(url: str, bodies: list, concurrency: int, expected: list[int]) -> dict:
    """Send every body (a dict: JSON; bytes: raw) from ``concurrency`` keep-alive connections.

    aiohttp, not httpx, drives the load: the client shares the cores with the server, and aiohttp's client
    costs a fraction of httpx's CPU per request, so the server, not the load generator, is what is measured.
    Returns wall seconds, per-request latency (s), statuses and the JSON of each 200 answer."""
    latencies, statuses, answers = [0.0] * len(bodies), [0] * len(bodies), [None] * len(bodies)
    next_index = iter(range(len(bodies)))
    headers = {"content-type": "application/json"}

    async def worker(session: aiohttp.ClientSession) -> None:
        for i in next_index:
            body = bodies[i]
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            start = time.perf_counter()
            try:
                async with session.post("/v1/pairs", data=data, headers=headers) as r:
                    statuses[i] = r.status
                    payload = await r.json()
                    answers[i] = payload if r.status == 200 else None
            except aiohttp.ClientError:
                statuses[i] = -1  # no answer at all: a connection error
            latencies[i] = time.perf_counter() - start

    timeout = aiohttp.ClientTimeout(total=120)
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(url, connector=connector, timeout=timeout) as session:
        start = time.perf_counter()
        await asyncio.gather(*(worker(session) for _ in range(concurrency)))
        wall = time.perf_counter() - start
    failed = sum(s != e for s, e in zip(statuses, expected))
    return {"wall": wall, "latencies": latencies, "statuses": statuses, "answers": answers, "failed": failed}


def pair_bodies(pairs: list, n_requests: int, size: int, offset: int = 0) -> tuple[list[dict], list[list[int]]]:
    """``n_requests`` bodies of ``size`` pairs each, taken in turn from ``pairs``; and their pair indices."""
    bodies, indices = [], []
    for r in range(n_requests):
        idx = [(offset + r * size + j) % len(pairs) for j in range(size)]
        bodies.append({"pairs": [{"evidence": pairs[i][0], "claim": pairs[i][1]} for i in idx]})
        indices.append(idx)
    return bodies, indices


def cell(server: Server, pairs: list, offline_labels: list, concurrency: int, size: int, n: int) -> dict:
    """One load cell: ``n`` requests of ``size`` pairs at ``concurrency``; throughput, latency, correctness."""
    bodies, indices = pair_bodies(pairs, n, size, offset=concurrency * 7)
    asyncio.run(load(server.url, bodies[: 2 * concurrency], concurrency, [200] * 2 * concurrency))  # warm-up
    before = server.health()
    out = asyncio.run(load(server.url, bodies, concurrency, [200] * n))
    health = server.health()
    agree = [
        p["label"] == offline_labels[i]
        for answer, idx in zip(out["answers"], indices)
        if answer
        for p, i in zip(answer["predictions"], idx)
    ]
    ms = np.array(out["latencies"]) * 1000
    return {
        "concurrency": concurrency,
        "pairs_per_request": size,
        "requests": n,
        "requests_per_second": n / out["wall"],
        "pairs_per_second": n * size / out["wall"],
        "p50_ms": float(np.percentile(ms, 50)),
        "p95_ms": float(np.percentile(ms, 95)),
        "p99_ms": float(np.percentile(ms, 99)),
        "failed": out["failed"],
        "labels_equal_offline": float(np.mean(agree)) if agree else None,
        "rss_start_mib": before["rss_mib"],
        "rss_end_mib": health["rss_mib"],
        # Pairs per forward call during this cell: how much the server gathered.
        "mean_batch_pairs": (health["pairs"] - before["pairs"]) / max(health["batches"] - before["batches"], 1),
    }


def soak(server: Server, pairs: list, n: int, bad_every: int) -> dict:
    """``n`` single-pair requests at concurrency 32, a bad request every ``bad_every``; errors and RSS.

    RSS growth is measured after a warm-up of the same traffic (a tenth of ``n``): the first requests of a
    new mix of shapes fill caches that then stay (oneDNN's kernels, the allocator's arenas), which is not
    the creep per request that a leak would show. The warm-up's own growth is reported beside it."""
    warm = max(n // 10, 1)
    bodies, _ = pair_bodies(pairs, warm + n, 1)
    expected = [200] * (warm + n)
    for k, i in enumerate(range(bad_every - 1, warm + n, bad_every)):
        bodies[i], expected[i] = BAD_REQUESTS[k % len(BAD_REQUESTS)]
    rss_before_warm_up = server.health()["rss_mib"]
    asyncio.run(load(server.url, bodies[:warm], 32, expected[:warm]))
    bodies, expected = bodies[warm:], expected[warm:]
    rss_start = server.health()["rss_mib"]
    out = asyncio.run(load(server.url, bodies, 32, expected))
    rss_end = server.health()["rss_mib"]
    good = [s for s, e in zip(out["statuses"], expected) if e == 200]
    bad = [(s, e) for s, e in zip(out["statuses"], expected) if e != 200]
    return {
        "requests": n,
        "warm_up_requests": warm,
        "rss_before_warm_up_mib": rss_before_warm_up,
        "seconds": out["wall"],
        "good_requests": len(good),
        "good_failed": sum(s != 200 for s in good),
        "bad_requests": len(bad),
        "bad_with_wrong_status": sum(s != e for s, e in bad),
        "rss_start_mib": rss_start,
        "rss_end_mib": rss_end,
        "rss_growth": rss_end / rss_start - 1,
    }


# ---------------------------------------------------------------------------------------------- report
def server_name(row: dict) -> str:
    return row["server"] + (f" ({row['variant']})" if row.get("variant") else "")


def table(rows: list[dict]) -> str:
    """Markdown table of the load cells, with the batching server's ratio to the no-batching one (same variant)."""
    base = {
        (r.get("variant", ""), r["concurrency"], r["pairs_per_request"]): r
        for r in rows
        if r["server"] == "no-batching"
    }
    lines = [
        "| server | C | pairs/request | req/s | pairs/s | × no-batching | p50 ms | p95 ms | p99 ms | failed "
        "| labels = offline | mean batch | RSS MiB start→end |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        b = base.get((r.get("variant", ""), r["concurrency"], r["pairs_per_request"]))
        ratio = f"{r['pairs_per_second'] / b['pairs_per_second']:.2f}×" if b else "–"
        agree = f"{r['labels_equal_offline']:.2%}" if r["labels_equal_offline"] is not None else "–"
        lines.append(
            f"| {server_name(r)} | {r['concurrency']} | {r['pairs_per_request']} | {r['requests_per_second']:.0f} | "
            f"{r['pairs_per_second']:.0f} | {ratio} | {r['p50_ms']:.1f} | {r['p95_ms']:.1f} | {r['p99_ms']:.1f} | "
            f"{r['failed']} | {agree} | {r['mean_batch_pairs']:.1f} | {r['rss_start_mib']:.0f}→{r['rss_end_mib']:.0f} |"
        )
    return "\n".join(lines)


def goals(result: dict) -> list[str]:
    """The issue's goals, each with the number reached."""
    rows = {(r.get("variant", ""), r["server"], r["concurrency"], r["pairs_per_request"]): r for r in result["rows"]}
    off = result["offline"]
    lines = [f"offline wrapper on the same pairs: {off['pairs_per_second']:.0f} pairs/s ({off['precision']})"]
    gathered = off.get("gathered_pairs_per_second")
    if gathered:
        lines.append(f"offline wrapper in calls of {off['gather']} pairs in request order: {gathered:.0f} pairs/s")
    for variant in dict.fromkeys(r.get("variant", "") for r in result["rows"]):
        named = f"{variant}: " if variant else ""
        one = rows.get((variant, "batching", 1, 1))
        if one:
            lines.append(f"{named}single-pair p95 at C=1: {one['p95_ms']:.1f} ms (goal <= 50)")
        for size in REQUEST_SIZES:
            ours, base = rows.get((variant, "batching", 32, size)), rows.get((variant, "no-batching", 32, size))
            if ours:
                share = ours["pairs_per_second"] / off["pairs_per_second"]
                ratio = ours["pairs_per_second"] / base["pairs_per_second"] if base else None
                ratio = f", {ratio:.2f}x no-batching (goal >= 3)" if ratio else ""
                # Single-pair clients hold only GATHER pairs between them: name the share of that reference too.
                ref = ""
                if gathered and size == 1:
                    ref = f", {ours['pairs_per_second'] / gathered:.0%} of offline in calls of {off['gather']}"
                lines.append(f"{named}C=32, {size}-pair requests: {share:.0%} of offline (goal >= 80%){ref}{ratio}")
    if result.get("soak"):
        s = result["soak"]
        lines.append(
            f"soak {s['requests']} requests: {s['good_failed']} good failed, {s['bad_with_wrong_status']} bad with a "
            f"wrong status (goal 0), RSS {s['rss_start_mib']:.0f}->{s['rss_end_mib']:.0f} MiB "
            f"({s['rss_growth']:+.1%}, goal <= +10%; after {s['warm_up_requests']} warm-up requests that took it "
            f"from {s['rss_before_warm_up_mib']:.0f})"
        )
    return lines


def variant_overrides(variant: str) -> list[str]:
    """``workers=2,max_wait_ms=2`` as scripts/serve.py overrides (empty: as shipped)."""
    return [part for part in variant.split(",") if part]


def main(argv: list[str] | None = None) -> dict | None:
    args = parse_args(argv)
    args.threads = args.threads or inference_bench.machine()["physical_cores"] or 1
    if args.child == "offline":
        print(RESULT_PREFIX + json.dumps(offline(args)))
        return None
    inference_bench.check_model_dir(args.model_dir)
    inference_bench.stop_children_on_sigterm()
    data = inference_bench.load_pairs(args)
    pairs = list(zip(data["premises"], data["hypotheses"]))
    with tempfile.TemporaryDirectory() as tmp:
        pairs_file = Path(tmp) / "pairs.json"
        pairs_file.write_text(json.dumps(pairs))
        command = [sys.executable, __file__, "--child", "offline", "--pairs-file", str(pairs_file)]
        command += ["--model-dir", args.model_dir, "--threads", str(args.threads)]
        done = subprocess.run(command, capture_output=True, text=True, cwd=PROJECT_ROOT)
        line = next((x for x in reversed(done.stdout.splitlines()) if x.startswith(RESULT_PREFIX)), None)
        if line is None:
            raise RuntimeError(f"the offline run failed:\n{done.stderr[-4000:]}")
        off = json.loads(line[len(RESULT_PREFIX) :])
        # Every server runs at once (an idle one costs no CPU) and each load cell visits them in turn, so a
        # drift in the VM's speed during the run hits every server alike rather than whichever ran then.
        plan = [
            (variant, name, [*variant_overrides(variant), *overrides])
            for variant in args.variant or [""]
            for name, overrides in (("batching", []), ("no-batching", ["batching=false"]))
        ]
        rows, soaked = [], None
        with contextlib.ExitStack() as stack:
            servers = [
                stack.enter_context(Server(args, Path(tmp) / f"server{k}", *overrides))
                for k, (_, _, overrides) in enumerate(plan)
            ]
            for size in REQUEST_SIZES:
                n = args.requests if size == 1 else args.batch_requests
                for c in CONCURRENCY:
                    for (variant, name, _), server in zip(plan, servers):
                        row = {"server": name, "variant": variant, **cell(server, pairs, off["labels"], c, size, n)}
                        rows.append(row)
                        print(table(rows[-1:]).splitlines()[-1], flush=True)
            if args.soak:  # against the first variant's batching server
                soaked = soak(servers[0], pairs, args.soak, args.bad_every)
        order = {(variant, name): k for k, (variant, name, _) in enumerate(plan)}
        rows.sort(key=lambda r: order[r["variant"], r["server"]])  # stable: each server's cells together
    result = {
        **inference_bench.provenance("bench/serve.py", sys.argv[1:] if argv is None else argv),
        "model_dir": args.model_dir,
        "set": data["set"],
        "pairs": len(pairs),
        "threads": args.threads,
        "server_overrides": args.set,
        "variants": args.variant,
        "offline": {k: v for k, v in off.items() if k != "labels"},
        "rows": rows,
        "soak": soaked,
    }
    result["goals"] = goals(result)
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(result, indent=2))
    print(
        f"\n{result['machine']['cpu']}, {args.threads} threads; offline wrapper "
        f"{off['pairs_per_second']:.0f} pairs/s ({off['precision']}) on {len(pairs)} {data['set']} pairs, "
        f"{off['gathered_pairs_per_second']:.0f} in calls of {off['gather']}\n"
    )
    print(table(rows))
    print("\n" + "\n".join(result["goals"]))
    return result


if __name__ == "__main__":
    main()
