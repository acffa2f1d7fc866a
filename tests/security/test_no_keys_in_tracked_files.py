"""No tracked file holds a key: what stops a hard-coded key (the old demo had one) from coming back.

Every file ``git ls-files`` lists is scanned for key-shaped strings: xAI and
OpenAI keys, bearer tokens with a long literal value, private keys, AWS access
keys. A match fails the test unless it is an *obvious fake*: it names itself
one (``canary``, ``fake``, ``test``, ``example``, ``stub``, ``smoke``,
``dummy``) or its secret part is one character repeated. Tests build their keys
at run time (``"xai-canary-" + secrets.token_hex(12)``), so a literal that
looks real is a key until proven otherwise. The few literals that are known
and harmless are listed in ``ALLOWED`` by file *and* exact text, so a real key
added to the same file is still caught. Binary files are skipped.
"""
from __future__ import annotations

import re
import secrets
import string
import subprocess
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest
from attrs import field, frozen

REPO = Path(__file__).resolve().parents[2]

KEY_SHAPES: dict[str, re.Pattern[str]] = {
    "xAI key": re.compile(r"xai-[A-Za-z0-9]{20,}"),
    "OpenAI key": re.compile(r"sk-(?:proj-)?[A-Za-z0-9_-]{20,}"),
    "bearer token": re.compile(r"Bearer\s+[A-Za-z0-9._~+/-]{20,}=*"),
    "private key": re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY(?: BLOCK)?-----"),
    "AWS access key": re.compile(r"AKIA[0-9A-Z]{16}"),
}
# The part before the secret itself, for the repeated-character test.
PREFIXES = re.compile(r"^(?:xai-|sk-proj-|sk-|Bearer\s+|AKIA)")
FAKE_WORDS = ("canary", "fake", "test", "example", "stub", "smoke", "dummy")

# (path, exact text, why). Keep this short: a literal that can be built at run time should be.
# Written in two pieces so this file does not match itself.
ALLOWED: frozenset[tuple[str, str]] = frozenset({
    # Mask examples in the Secret tests: the alphabet, not keys (tests/unit's owner could build them at run time).
    ("tests/unit/test_secret.py", "xai" + "-abcdefghijklmnop1234"),
    ("tests/unit/test_secret.py", "sk" + "-proj-abcdefghijklmnop9876"),
})


@frozen
class Finding:
    path: str
    line: int
    kind: str
    text: str = field(repr=False)

    def __str__(self) -> str:
        # Never print the candidate itself: if it is a real key, the test log must not spread it.
        return f"{self.path}:{self.line}: {self.kind} ({len(self.text)} characters, starting {self.text[:6]!r})"


def is_obvious_fake(text: str) -> bool:
    """A match that names itself a fake, or whose secret part is one character repeated."""
    lowered = text.lower()
    if any(word in lowered for word in FAKE_WORDS):
        return True
    secret_part = PREFIXES.sub("", text).rstrip("=")
    return len(set(secret_part)) == 1


def is_binary(data: bytes) -> bool:
    if b"\x00" in data[:8192]:
        return True
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


def scan_text(path: str, text: str) -> Iterator[Finding]:
    for number, line in enumerate(text.splitlines(), start=1):
        for kind, shape in KEY_SHAPES.items():
            for match in shape.finditer(line):
                found = match.group(0)
                if not is_obvious_fake(found) and (path, found) not in ALLOWED:
                    yield Finding(path, number, kind, found)


def scan_files(root: Path, paths: Iterable[str]) -> tuple[list[Finding], list[str]]:
    """Findings in the text files among ``paths`` (relative to ``root``), and the binary files skipped."""
    findings: list[Finding] = []
    skipped: list[str] = []
    for relative in paths:
        file = root / relative
        if not file.is_file():  # deleted in the working tree, or a submodule
            continue
        data = file.read_bytes()
        if is_binary(data):
            skipped.append(relative)
            continue
        findings += scan_text(relative, data.decode("utf-8"))
    return findings, skipped


def tracked_files(root: Path) -> list[str]:
    if not (root / ".git").exists():
        pytest.skip(f"{root} is not a git checkout: nothing is tracked")
    listed = subprocess.run(["git", "-C", str(root), "ls-files", "-z"], capture_output=True, check=True, timeout=60)
    return [name for name in listed.stdout.decode("utf-8").split("\0") if name]


def test_no_tracked_file_holds_a_key() -> None:
    paths = tracked_files(REPO)
    assert "pyproject.toml" in paths
    findings, _ = scan_files(REPO, paths)
    assert not findings, "key-shaped strings in tracked files (build test keys at run time):\n  " + "\n  ".join(
        map(str, findings))


def test_every_allowed_literal_is_still_there() -> None:
    """An allowance outliving its literal would quietly allow a real key of the same text later."""
    paths = set(tracked_files(REPO))
    for path, text in ALLOWED:
        assert path in paths and text in (REPO / path).read_text("utf-8"), f"drop {path!r} from ALLOWED"


# --- the scanner catches what it must -------------------------------------------------------------------

CONSONANTS = "".join(c for c in string.ascii_letters if c not in "aeiouAEIOU")  # no fake word can appear by chance


def real_looking(length: int, alphabet: str = CONSONANTS + string.digits) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(length))


def looks_real() -> dict[str, str]:
    """One key of each shape, built here so this file stays clean."""
    return {
        "xAI key": "xai" + "-" + real_looking(80),
        "OpenAI key": "sk" + "-proj-" + real_looking(48, CONSONANTS + string.digits + "_-"),
        "bearer token": "Bear" + "er " + real_looking(40) + ".x",
        "private key": "-----BEGIN " + "RSA PRIVATE" + " KEY-----",
        "AWS access key": "AK" + "IA" + real_looking(16, CONSONANTS.upper() + string.digits),
    }


@pytest.mark.parametrize("kind", list(KEY_SHAPES))
def test_the_scanner_catches_a_real_looking_key(tmp_path: Path, kind: str) -> None:
    key = looks_real()[kind]
    (tmp_path / "settings.py").write_text(f'API_KEY = "{key}"  # oops\n', "utf-8")
    findings, _ = scan_files(tmp_path, ["settings.py"])
    assert [(f.kind, f.line) for f in findings] == [(kind, 1)]
    assert key not in str(findings[0])  # the report does not spread the key


@pytest.mark.parametrize("fake", [
    "xai" + "-" + "canary" + real_looking(24),
    "sk" + "-" + "x" * 40,
    "sk" + "-test-" + real_looking(30),
    "Bear" + "er " + "dummy-token-" + real_looking(20),
    "AK" + "IA" + "EXAMPLE" + "A" * 9,
    "xai" + "-" + "0" * 80,
])
def test_obvious_fakes_pass(tmp_path: Path, fake: str) -> None:
    (tmp_path / "conftest.py").write_text(f'KEY = "{fake}"\n', "utf-8")
    assert scan_files(tmp_path, ["conftest.py"]) == ([], [])


def test_an_allowed_literal_does_not_hide_a_real_key_in_the_same_file(tmp_path: Path) -> None:
    path, text = sorted(ALLOWED)[0]
    key = looks_real()["xAI key"]
    (tmp_path / "t.py").write_text(f'A = "{text}"\nB = "{key}"\n', "utf-8")
    assert [f.line for f in scan_files(tmp_path, ["t.py"])[0]] == [1, 2]  # the allowance is per file
    (tmp_path / path).parent.mkdir(parents=True)
    (tmp_path / path).write_text(f'A = "{text}"\nB = "{key}"\n', "utf-8")
    assert [f.line for f in scan_files(tmp_path, [path])[0]] == [2]


def test_binary_files_are_skipped_and_said_to_be(tmp_path: Path) -> None:
    (tmp_path / "blob.bin").write_bytes(b"\x00\x01" + looks_real()["xAI key"].encode())
    assert scan_files(tmp_path, ["blob.bin"]) == ([], ["blob.bin"])
