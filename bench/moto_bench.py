"""The moto side of the ecsd benchmark (issue 6).

Starts moto_server on 127.0.0.1:5000, runs the EC2 equivalents of the rows of `ecsd-bench`
with boto3 and writes JSON that `ecsd-bench --moto-json FILE` prints beside ecsd's figures:

    {"rows": {"<row id>": number or null}, "notes": {"<row id>": "..."}, "meta": {...}}

The row ids are the ones of bench/src/main.rs. Run it through bench/run-moto.sh, which
installs moto[server] and boto3 into a venv under target/. Every request goes to 127.0.0.1;
every load loop is bounded in time and in count.
"""

import argparse
import json
import multiprocessing
import os
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

HOST = "127.0.0.1"
PORT = 5000
ENDPOINT = f"http://{HOST}:{PORT}"
REGION = "us-east-1"
INSTANCE_TYPE = "t2.micro"
# The most instances one stop_instances call is given in the 10,000-instance stop, like ecsd's
# batch limit of 1,000.
BATCH = 1000


def ec2_client(pool=10):
    import boto3
    from botocore.config import Config

    session = boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION)
    return session.client(
        "ec2",
        endpoint_url=ENDPOINT,
        config=Config(max_pool_connections=pool, retries={"max_attempts": 1, "mode": "standard"}),
    )


def percentile(sorted_values, q):
    """Nearest rank, as ecsd-bench computes it."""
    if not sorted_values:
        return None
    rank = min(max(int(-(-q * len(sorted_values) // 1)), 1), len(sorted_values))
    return sorted_values[rank - 1]


def rss_mib(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return None


def start_moto(moto_server):
    """Starts moto_server and returns (process, ms until it answered GET /)."""
    env = dict(os.environ)
    env.pop("HTTP_PROXY", None)
    env.pop("http_proxy", None)
    started = time.perf_counter()
    process = subprocess.Popen(
        [moto_server, "-H", HOST, "-p", str(PORT)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    while True:
        try:
            opener.open(ENDPOINT + "/", timeout=2).read()
            break
        except urllib.error.HTTPError:
            break  # any HTTP answer counts
        except (urllib.error.URLError, ConnectionError, OSError):
            if process.poll() is not None:
                raise SystemExit(f"moto_server exited with {process.returncode} (is port {PORT} taken?)")
            if time.perf_counter() - started > 120:
                process.kill()
                raise SystemExit("moto_server did not answer within 120 s")
            time.sleep(0.0005)
    return process, (time.perf_counter() - started) * 1000.0


def wait_state(ec2, ids, state, deadline_s=600):
    """Polls until the instances are in `state`: the timed part watches the last instance of the
    call (one describe of one id a poll: moto moves every instance of a call at once, and a
    describe of 1,000 ids costs moto seconds), then every instance is checked, untimed, by
    `check_state`. Returns the seconds the timed part took."""
    started = time.perf_counter()
    last = ids[-1]
    while True:
        answer = ec2.describe_instances(InstanceIds=[last])
        states = [i["State"]["Name"] for r in answer["Reservations"] for i in r["Instances"]]
        if states == [state]:
            return time.perf_counter() - started
        if time.perf_counter() - started > deadline_s:
            raise SystemExit(f"{last} not {state} after {deadline_s} s")
        time.sleep(0.001)


def check_state(ec2, ids, state):
    """Every instance of `ids` is in `state` (1,000 ids a call)."""
    for i in range(0, len(ids), BATCH):
        answer = ec2.describe_instances(InstanceIds=ids[i : i + BATCH])
        wrong = [
            x["InstanceId"] for r in answer["Reservations"] for x in r["Instances"] if x["State"]["Name"] != state
        ]
        if wrong:
            raise SystemExit(f"{len(wrong)} instances are not {state}, e.g. {wrong[0]}")


def run_instances(ec2, image, count):
    answer = ec2.run_instances(ImageId=image, InstanceType=INSTANCE_TYPE, MinCount=count, MaxCount=count)
    return [instance["InstanceId"] for instance in answer["Instances"]]


def _load_worker(args):
    """One process of the load: `threads` threads, each with its own client, calling `kind`."""
    kind, arg, threads, seconds, max_requests, seed = args
    import random

    clients = [ec2_client(pool=2) for _ in range(threads)]
    latencies = []
    errors = [0]
    lock = threading.Lock()
    counter = [0]
    barrier = threading.Barrier(threads + 1)
    deadline = [0.0]

    def call(ec2, rng):
        if kind == "show":
            ids = arg
            ec2.describe_instances(InstanceIds=[ids[rng.randrange(len(ids))]])
        else:  # list: the 100 instances of a page, by id
            ec2.describe_instances(InstanceIds=arg)

    def loop(ec2, index):
        rng = random.Random(seed * 1000 + index)
        mine = []
        barrier.wait()
        while time.perf_counter() < deadline[0]:
            with lock:
                if counter[0] >= max_requests:
                    break
                counter[0] += 1
            begun = time.perf_counter()
            try:
                call(ec2, rng)
                mine.append((time.perf_counter() - begun) * 1000.0)
            except Exception:  # noqa: BLE001 - counted, not fatal
                with lock:
                    errors[0] += 1
        with lock:
            latencies.extend(mine)

    workers = [threading.Thread(target=loop, args=(c, i)) for i, c in enumerate(clients)]
    for worker in workers:
        worker.start()
    deadline[0] = time.perf_counter() + seconds
    barrier.wait()
    for worker in workers:
        worker.join()
    return latencies, errors[0]


def load(kind, arg, connections, seconds, max_requests):
    """`connections` client threads spread over a few processes (so the client's GIL is not the
    limit), for `seconds` or `max_requests` calls in all. Returns (req/s, p50 ms, p99 ms, n, errors)."""
    processes = min(4, connections)
    per = [connections // processes + (1 if i < connections % processes else 0) for i in range(processes)]
    jobs = [(kind, arg, threads, seconds, max(1, max_requests // processes), i + 1) for i, threads in enumerate(per)]
    started = time.perf_counter()
    with multiprocessing.get_context("fork").Pool(processes) as pool:
        results = pool.map(_load_worker, jobs)
    elapsed = time.perf_counter() - started
    latencies = sorted(x for lat, _ in results for x in lat)
    errors = sum(e for _, e in results)
    # The processes spend time building clients before the timed window: rate over the window.
    window = min(elapsed, float(seconds)) if latencies else elapsed
    return {
        "rps": len(latencies) / window if window > 0 else None,
        "p50": percentile(latencies, 0.50),
        "p99": percentile(latencies, 0.99),
        "n": len(latencies),
        "errors": errors,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--moto-server", required=True, help="path of the moto_server script")
    parser.add_argument("--out", required=True, help="JSON file to write")
    parser.add_argument("--quick", action="store_true", help="shorter load phases, like ecsd-bench --quick")
    parser.add_argument("--connections", type=int, default=64)
    args = parser.parse_args()

    show_seconds = 3 if args.quick else 10
    size_seconds = 2 if args.quick else 5
    rows, notes, meta_extra = {}, {}, {}

    def log(message):
        print(message, file=sys.stderr, flush=True)

    process, cold = start_moto(args.moto_server)
    try:
        rows["cold_start_ms"] = cold
        notes["cold_start_ms"] = "GET /"
        ec2 = ec2_client()
        begun = time.perf_counter()
        images = ec2.describe_images(Owners=["amazon"])["Images"]
        first_ec2_ms = (time.perf_counter() - begun) * 1000.0
        image = images[0]["ImageId"] if images else "ami-12c6146b"
        log(f"moto: cold start {cold:.0f} ms, first EC2 call {first_ec2_ms:.0f} ms, image {image}")

        # 100 in one call, then 1,000 in one call.
        begun = time.perf_counter()
        ids = run_instances(ec2, image, 100)
        rows["create_100_accepted_ms"] = (time.perf_counter() - begun) * 1000.0
        wait_state(ec2, ids, "running")
        rows["create_100_success_ms"] = (time.perf_counter() - begun) * 1000.0
        check_state(ec2, ids, "running")
        fleet_all = list(ids)

        begun = time.perf_counter()
        fleet = run_instances(ec2, image, 1000)
        rows["create_1000_accepted_ms"] = (time.perf_counter() - begun) * 1000.0
        wait_state(ec2, fleet, "running")
        rows["create_1000_success_ms"] = (time.perf_counter() - begun) * 1000.0
        check_state(ec2, fleet, "running")
        notes["create_1000_accepted_ms"] = "one run_instances of 1000"
        notes["create_1000_success_ms"] = "until running"
        notes["create_100_success_ms"] = "until running"
        fleet_all += fleet
        log(f"moto: created 1,100 ({rows['create_1000_accepted_ms']:.0f} ms for 1,000)")

        for call, state, row in ((ec2.stop_instances, "stopped", "stop_1000"), (ec2.start_instances, "running", "start_1000")):
            begun = time.perf_counter()
            call(InstanceIds=fleet)
            rows[f"{row}_accepted_ms"] = (time.perf_counter() - begun) * 1000.0
            wait_state(ec2, fleet, state)
            rows[f"{row}_success_ms"] = (time.perf_counter() - begun) * 1000.0
            check_state(ec2, fleet, state)
            notes[f"{row}_success_ms"] = f"until {state}"

        begun = time.perf_counter()
        ec2.create_tags(Resources=fleet, Tags=[{"Key": "bench", "Value": "1"}])
        rows["reset_password_1000_ms"] = (time.perf_counter() - begun) * 1000.0
        notes["reset_password_1000_ms"] = "analogue: create_tags on 1000; EC2 has no password reset"

        log("moto: describe one instance")
        show = load("show", [fleet[0]], args.connections, show_seconds, 100_000)
        rows["show_rps"], rows["show_p50_ms"], rows["show_p99_ms"] = show["rps"], show["p50"], show["p99"]
        meta_extra["show_requests"] = show["n"]
        meta_extra["show_errors"] = show["errors"]
        notes["show_rps"] = f"describe_instances of 1 id, {args.connections} threads in 4 processes"

        log("moto: growing to 10,000 instances")
        begun = time.perf_counter()
        grown = []
        while len(fleet_all) + len(grown) < 10_000:
            grown += run_instances(ec2, image, min(1000, 10_000 - len(fleet_all) - len(grown)))
        wait_state(ec2, grown, "running")
        rows["grow_10000_s"] = time.perf_counter() - begun
        check_state(ec2, grown, "running")
        notes["grow_10000_s"] = "run_instances of 1000 in sequence"
        fleet_all += grown

        log("moto: describe at 10,000")
        show = load("show", fleet_all, args.connections, size_seconds, 100_000)
        rows["show_10000_rps"], rows["show_10000_p50_ms"], rows["show_10000_p99_ms"] = (
            show["rps"],
            show["p50"],
            show["p99"],
        )
        log("moto: list pages at 10,000")
        # moto pages describe_instances by reservation (MaxResults=100 answers 100 reservations,
        # here all 10,000 instances), so a page of 100 instances is asked for by their ids. This
        # favours moto: a tag filter matching the same 100 took moto 17 s a call here.
        page = load("list", fleet_all[-100:], 4, size_seconds, 20_000)
        rows["list_10000_p50_ms"], rows["list_10000_p99_ms"] = page["p50"], page["p99"]
        notes["list_10000_p50_ms"] = f"describe_instances of 100 ids, n={page['n']}"
        middle = len(fleet_all) // 2
        deep = load("list", fleet_all[middle : middle + 100], 4, size_seconds, 20_000)
        rows["list_deep_10000_p50_ms"], rows["list_deep_10000_p99_ms"] = deep["p50"], deep["p99"]
        notes["list_deep_10000_p50_ms"] = f"describe_instances of 100 ids in the middle, n={deep['n']}"
        rows["rss_10000_mib"] = rss_mib(process.pid)

        log("moto: stop 10,000 as 10 concurrent calls of 1,000")
        chunks = [fleet_all[i : i + BATCH] for i in range(0, 10_000, BATCH)]
        clients = [ec2_client() for _ in chunks]
        accepted, done = [0.0] * len(chunks), [0.0] * len(chunks)
        begun = time.perf_counter()

        def stop(index):
            clients[index].stop_instances(InstanceIds=chunks[index])
            accepted[index] = time.perf_counter() - begun
            wait_state(clients[index], chunks[index], "stopped")
            done[index] = time.perf_counter() - begun

        threads = [threading.Thread(target=stop, args=(i,)) for i in range(len(chunks))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        rows["stop_10000_accepted_ms"] = max(accepted) * 1000.0
        rows["stop_10000_success_ms"] = max(done) * 1000.0
        check_state(ec2, fleet_all, "stopped")
        notes["stop_10000_success_ms"] = "until stopped"
        notes["restart_10000_ms"] = "n/a: moto keeps state in memory only"
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()

    import boto3
    import moto

    result = {
        "rows": rows,
        "notes": notes,
        "meta": {
            "moto": moto.__version__,
            "boto3": boto3.__version__,
            "python": sys.version.split()[0],
            "first_ec2_call_ms": round(first_ec2_ms, 1),
            "quick": args.quick,
            **meta_extra,
        },
    }
    with open(args.out, "w") as out:
        json.dump(result, out, indent=2)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
