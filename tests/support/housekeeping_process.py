"""One server process's housekeeping tick, as a process of its own (for the two-process test).

``python -m tests.support.housekeeping_process NOW GO_FILE`` waits (bounded) until ``GO_FILE``
exists, so that several such processes start their tick at the same moment, runs every due job
once at the clock time ``NOW`` (ISO 8601) against ``IMMTRAX_DATABASE_URL``, and prints what each
job did as one JSON line.
"""

from __future__ import annotations

import json
import sys
import time
from datetime import datetime
from pathlib import Path

from immtrax_portal.services.housekeeping import run_due_jobs


def main(now_text: str, go_file: str) -> int:
    deadline = time.monotonic() + 30
    while not Path(go_file).exists():
        if time.monotonic() > deadline:
            print(json.dumps({"error": "no go signal"}))
            return 2
        time.sleep(0.005)
    print(json.dumps(run_due_jobs(datetime.fromisoformat(now_text))), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
