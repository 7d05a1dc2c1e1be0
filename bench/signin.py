"""Time sign-ins with an unknown e-mail against sign-ins with a known one.

    .venv/bin/python -m bench.signin [--rounds 15]

A temporary SQLite database, one analyst account, and the test client posting the sign-in form
(each post after its own GET for the CSRF token, which is not timed). Prints the median time of
a post with an unknown e-mail, with a known e-mail and a wrong password, with a deactivated
account, and with the right password. Target: the first three within a few milliseconds of each
other, so the time taken does not tell which e-mails have accounts. Throttling is turned off:
refused attempts answer without looking at any password, whatever the e-mail.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "a long enough password"  # noqa: S105 - the benchmark account's password
#: Large enough that no attempt of the benchmark is refused.
NO_THROTTLE = {
    "LOGIN_FAILURES_BEFORE_DELAY": 10**6,
    "LOGIN_ACCOUNT_LOCK_FAILURES": 10**6,
    "LOGIN_ADDRESS_LOCK_FAILURES": 10**6,
}


def main() -> None:
    """Print the median sign-in time for unknown, known, inactive and right credentials."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15, help="sign-ins of each kind")
    args = parser.parse_args()

    from flask_migrate import upgrade

    from app import create_app
    from app.accounts import services
    from app.extensions import db
    from tests.respondent import csrf_token

    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(
            {
                "TESTING": True,
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{Path(tmp) / 'atlas.db'}",
                "SECRET_KEY": "bench",
                "SESSION_COOKIE_SECURE": False,
                **NO_THROTTLE,
            }
        )
        with app.app_context():
            upgrade(directory=str(ROOT / "migrations"))
            services.create_user("known@example.org", PASSWORD, "analyst")
            services.create_user("gone@example.org", PASSWORD, "analyst").is_active_account = False
            db.session.commit()

        def post(email: str, password: str, expected: int) -> float:
            client = app.test_client()
            token = csrf_token(client.get("/account/login").text)
            data = {"csrf_token": token, "email": email, "password": password}
            start = time.perf_counter()
            response = client.post("/account/login", data=data)
            elapsed = time.perf_counter() - start
            assert response.status_code == expected, (email, response.status_code)
            return elapsed

        kinds = {
            "unknown e-mail": lambda n: post(f"nobody{n}@example.org", "wrong password 1", 401),
            "known e-mail, wrong password": lambda n: post(
                "known@example.org", "wrong password 1", 401
            ),
            "deactivated account": lambda n: post("gone@example.org", PASSWORD, 401),
            "known e-mail, right password": lambda n: post("known@example.org", PASSWORD, 302),
        }
        post("nobody@example.org", "warm-up", 401)  # imports, first connection, dummy hash
        times: dict[str, list[float]] = {kind: [] for kind in kinds}
        for n in range(args.rounds):  # interleaved, so machine load falls on every kind alike
            for kind, attempt in kinds.items():
                times[kind].append(attempt(n))
        with app.app_context():
            db.engine.dispose()

    print(f"median of {args.rounds} sign-ins (ms)")
    for kind, values in times.items():
        print(f"  {kind:<30} {statistics.median(values) * 1000:8.1f}")
    unknown = statistics.median(times["unknown e-mail"])
    known = statistics.median(times["known e-mail, wrong password"])
    print(f"  unknown / known (wrong password): {unknown / known:.2f}")


if __name__ == "__main__":
    main()
