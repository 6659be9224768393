"""Runs one command as this process's only child; writes its wall time and
peak resident memory (getrusage RUSAGE_CHILDREN, exact with a single child)
as JSON to the file named first.

    python -m benchmarks.peak OUT.json -- COMMAND ARGS..."""

import json
import resource
import subprocess
import sys
import time


def main(argv: list[str]) -> int:
    out, separator, *command = argv
    if separator != "--" or not command:
        raise SystemExit(__doc__)
    started = time.perf_counter()
    code = subprocess.call(command)
    seconds = time.perf_counter() - started
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # KiB on Linux
    with open(out, "w") as handle:
        json.dump({"seconds": seconds, "peak_mib": peak_kib / 1024, "exit": code}, handle)
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
