"""Check the JSON API against its own OpenAPI description with schemathesis (``make loadtest``).

The site runs under gunicorn on 127.0.0.1 with a throwaway SQLite database; schemathesis reads
``/api/v1/openapi.json`` from it and sends what the description allows (which must not fail)
and what it forbids (which must be refused), other methods (405 with ``Allow``), and checks
every answer against the described statuses, types and bodies. Nothing leaves the machine.

``positive_data_acceptance`` is left out: the description cannot state the rules between
questions (a constraint on two answers, a region of the chosen country, a question asked
only after another answer), so a described body may rightly get 422. ``tests/test_no_500.py``
checks, body by body, that a refusal of that kind is the only one.

``SCHEMA_EXAMPLES`` (default 300) sets the examples per operation.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.server import Gunicorn, throwaway_database

EXAMPLES = int(os.environ.get("SCHEMA_EXAMPLES", "300"))
#: Checks that need something this API does not have (sign-in, resources made by requests).
NOT_APPLICABLE = ["ignored_auth", "use_after_free", "ensure_resource_availability"]


def main() -> int:
    """Serve the site, run schemathesis against it, and return its exit status."""
    with tempfile.TemporaryDirectory(prefix="atlas-schema-") as tmp:
        workdir = Path(tmp)
        with throwaway_database("sqlite", workdir) as url:
            server = Gunicorn(
                url,
                workers=1,
                threads=2,
                redis=False,
                # Every request comes from one address: keep the limits, far above the run.
                extra_env={"ATLAS_RATELIMIT_PLACES": "100000000 per minute"},
            )
            with server:
                command = [
                    str(Path(sys.executable).parent / "schemathesis"),
                    "run",
                    f"{server.base}/api/v1/openapi.json",
                    "--checks",
                    "all",
                    "--exclude-checks",
                    ",".join(["positive_data_acceptance", *NOT_APPLICABLE]),
                    "--max-examples",
                    str(EXAMPLES),
                    "--workers",
                    "1",
                    "--seed",
                    "10",
                    "--generation-database",
                    "none",
                    "--report-dir",
                    str(workdir / "report"),
                    "--no-color",
                ]
                outcome = subprocess.run(command, cwd=workdir, check=False)  # noqa: S603 - fixed argv
                errors = [line for line in server.log().splitlines() if "Traceback" in line]
                if errors:
                    print(server.log(), file=sys.stderr)
                    return 1
                return outcome.returncode


if __name__ == "__main__":
    sys.exit(main())
