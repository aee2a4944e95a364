"""``kclusterkit cleanup``: remove what runs left behind on a cluster.

A run killed with SIGKILL, a machine that lost power, or ``cleanup: never`` leave
namespaces behind. They all carry ``kclusterkit.io/managed=true`` (and the run's id), so
they can be found and removed afterwards without touching anything else.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from kclusterkit.driver.errors import ApiError, ClusterError, ConfigurationError
from kclusterkit.driver.kube import (
    MANAGED_LABEL,
    RUN_LABEL,
    SCENARIO_ANNOTATION,
    connect,
    run_label_value,
)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="kclusterkit cleanup",
        description="Delete the namespaces kclusterkit runs left on a cluster "
                    f"(labelled {MANAGED_LABEL}=true).")
    p.add_argument("--kubeconfig", help="kubeconfig file (default: KUBECONFIG or ~/.kube/config)")
    p.add_argument("--context", help="kubeconfig context (default: the current one)")
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--run", metavar="ID", help="only the namespaces of this run")
    which.add_argument("--all", action="store_true", help="the namespaces of every run")
    p.add_argument("--dry-run", action="store_true", help="list what would be deleted")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    selector = f"{MANAGED_LABEL}=true"
    if args.run:
        selector += f",{RUN_LABEL}={run_label_value(args.run)}"
    try:
        rest = connect(args.kubeconfig, args.context)
        found = rest.call("GET", "/api/v1/namespaces", query={"labelSelector": selector})
        removed = 0
        for ns in found.get("items") or []:
            meta = ns.get("metadata") or {}
            name = meta.get("name", "")
            run = (meta.get("labels") or {}).get(RUN_LABEL, "?")
            scenario = (meta.get("annotations") or {}).get(SCENARIO_ANNOTATION, "")
            what = f"namespace {name} (run {run}" + (f", scenario {scenario!r})" if scenario
                                                       else ")")
            if (ns.get("status") or {}).get("phase") == "Terminating":
                print(f"already terminating: {what}")
                continue
            if args.dry_run:
                print(f"would delete {what}")
                continue
            try:
                rest.call("DELETE", f"/api/v1/namespaces/{name}",
                          body={"propagationPolicy": "Background"})
            except ApiError as exc:
                if exc.code == 404:
                    continue
                raise
            removed += 1
            print(f"deleted {what}")
        if not found.get("items"):
            scope = f"run {args.run}" if args.run else "any run"
            print(f"nothing to clean up: no namespace of {scope} on the cluster")
        elif not args.dry_run:
            print(f"{removed} namespace(s) deleted")
        return 0
    except (ClusterError, ConfigurationError) as exc:
        print(f"kclusterkit cleanup: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
