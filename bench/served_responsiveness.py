"""The served cluster under a 20,000-replica scale-up: /version latency and SIGTERM time.

`kclusterkit sim serve` runs as a child process; a Deployment of N replicas (default 20,000)
is created, /version is asked every 100 ms for a few seconds while the ReplicaSet controller
creates pods burst after burst, then SIGTERM is sent and the exit timed. Prints figures,
asserts nothing; the last line is key=value pairs.
Run: PYTHONPATH=. python bench/served_responsiveness.py [--replicas N --seconds S]
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests
import yaml


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--replicas", type=int, default=20_000)
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    root = Path(__file__).resolve().parents[1]
    work = Path(tempfile.mkdtemp())
    kubeconfig = work / "config"
    proc = subprocess.Popen([sys.executable, "-m", "kclusterkit.sim.server", "--print-kubeconfig",
                             "--kubeconfig", str(kubeconfig)], stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(root)})
    assert proc.stdout is not None
    proc.stdout.readline()
    config = yaml.safe_load(kubeconfig.read_text())
    url = config["clusters"][0]["cluster"]["server"]
    token = config["users"][0]["user"]["token"]
    ca = work / "ca.crt"
    import base64

    ca.write_bytes(base64.b64decode(config["clusters"][0]["cluster"]
                                    ["certificate-authority-data"]))
    auth = {"Authorization": f"Bearer {token}"}
    body = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "big"},
            "spec": {"replicas": args.replicas, "selector": {"matchLabels": {"app": "big"}},
                     "template": {"metadata": {"labels": {"app": "big"}},
                                  "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}}
    r = requests.post(url + "/apis/apps/v1/namespaces/default/deployments", json=body,
                      headers=auth, verify=str(ca), timeout=30)
    r.raise_for_status()
    latencies = []
    end = time.monotonic() + args.seconds
    session = requests.Session()  # keep-alive, as the kubernetes client and kubectl do
    while time.monotonic() < end:
        t = time.monotonic()
        session.get(url + "/version", verify=str(ca), timeout=30).raise_for_status()
        latencies.append(time.monotonic() - t)
        time.sleep(0.1)
    pods = requests.get(url + "/api/v1/namespaces/default/pods?limit=1", headers=auth,
                        verify=str(ca), timeout=30).json()["metadata"].get("remainingItemCount")
    started = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    code = proc.wait(60)
    stop = time.monotonic() - started
    latencies.sort()
    p50 = statistics.median(latencies)
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    print(f"/version while scaling to {args.replicas}: {len(latencies)} requests, "
          f"p50 {p50 * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms, max {latencies[-1] * 1000:.0f} ms "
          f"(pods so far ≈ {(pods or 0) + 1})")
    print(f"SIGTERM → exit {code} in {stop:.2f} s")
    print(f"replicas={args.replicas} version_p50_ms={p50 * 1000:.0f} "
          f"version_p99_ms={p99 * 1000:.0f} version_max_ms={latencies[-1] * 1000:.0f} "
          f"sigterm_s={stop:.2f}")


if __name__ == "__main__":
    main()
