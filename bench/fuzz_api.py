"""Fuzz the served API with schemathesis and count 5xx answers (the goal is none).

Starts `kclusterkit sim serve` (127.0.0.1 only), reads its request-body document
(/openapi/v3/kclusterkit-all, see kclusterkit/sim/server/openapi_bodies.py) and runs
schemathesis's fuzzing and stateful phases with the not_a_server_error check, a bounded
number of examples per operation, seeded. schemathesis is not a dependency of make test:
install it with `pip install -e ".[fuzz]"`; without it this prints how and exits 0.
Prints figures, asserts nothing; the last line is key=value pairs.
Run: PYTHONPATH=. python bench/fuzz_api.py [--examples N --seed S]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests
import yaml


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--examples", type=int, default=10)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--phases", default="fuzzing,stateful")
    args = parser.parse_args()
    tool = shutil.which("schemathesis", path=str(Path(sys.executable).parent)) or shutil.which(
        "schemathesis")
    if tool is None:
        print('schemathesis is not installed: pip install -e ".[fuzz]" (skipped)')
        return 0
    root = Path(__file__).resolve().parents[1]
    work = Path(tempfile.mkdtemp(prefix="kclusterkit-fuzz-"))
    kubeconfig = work / "config"
    log = (work / "server.log").open("w")
    server = subprocess.Popen([sys.executable, "-m", "kclusterkit.sim.server",
                               "--print-kubeconfig", "--kubeconfig", str(kubeconfig),
                               "--speed", "5"], stdout=subprocess.PIPE, stderr=log, text=True,
                              env={**os.environ, "PYTHONPATH": str(root)})
    assert server.stdout is not None
    server.stdout.readline()
    config = yaml.safe_load(kubeconfig.read_text())
    url = config["clusters"][0]["cluster"]["server"]
    token = config["users"][0]["user"]["token"]
    schema = work / "schema.json"
    response = requests.get(url + "/openapi/v3/kclusterkit-all", verify=False, timeout=30,
                            headers={"Authorization": f"Bearer {token}"})
    schema.write_text(json.dumps(response.json()))
    started = time.monotonic()
    result = subprocess.run(
        [tool, "run", str(schema), "--url", url, "-H", f"Authorization: Bearer {token}",
         "--tls-verify", "false", "--max-examples", str(args.examples), "--seed",
         str(args.seed), "--phases", args.phases, "--checks", "not_a_server_error",
         "--request-timeout", "20", "--no-color"],
        capture_output=True, text=True, cwd=work)  # its caches stay out of the checkout
    took = time.monotonic() - started
    server.send_signal(signal.SIGTERM)
    server.wait(30)
    log.close()
    out = result.stdout + result.stderr
    (work / "schemathesis.log").write_text(out)
    server_errors = len(re.findall(r"^request \S+ \S+ failed$",
                                   (work / "server.log").read_text(), re.M))
    cases = re.search(r"(\d+) generated", out)
    failures = len(re.findall(r"Server error", out))
    print(out[-3000:])
    print(f"schemathesis exit {result.returncode} in {took:.0f} s; logs in {work}")
    print(f"examples={args.examples} seed={args.seed} cases={cases.group(1) if cases else '?'} "
          f"server_errors_logged={server_errors} schemathesis_server_error_failures={failures}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
