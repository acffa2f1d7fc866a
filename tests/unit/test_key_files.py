"""file: key references: only a small regular file is read (finding 10: /dev/zero, FIFOs)."""
import os
import socket
import threading

import pytest

from llmcore.adapters.env_file_secrets import MAX_KEY_FILE_BYTES, EnvFileSecretSource


def _resolve(path):
    return EnvFileSecretSource({}).resolve(f"file:{path}", field_name="api_key")


def test_a_small_key_file_is_read_and_one_final_newline_dropped(tmp_path, canary):
    key_file = tmp_path / "key"
    key_file.write_text(canary + "\n")
    assert _resolve(key_file).value.reveal() == canary


def test_a_crlf_key_file_reads_as_the_key(tmp_path, canary):
    key_file = tmp_path / "key"
    key_file.write_bytes(canary.encode() + b"\r\n")
    assert _resolve(key_file).value.reveal() == canary


def test_dev_zero_is_refused_as_a_device_without_reading_it():
    resolved = _resolve("/dev/zero")
    assert resolved.value is None
    assert "file:/dev/zero, which is not a regular file (a device)" in resolved.problem


def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path):
    fifo = tmp_path / "key.fifo"
    os.mkfifo(fifo)
    outcome = []
    reader = threading.Thread(target=lambda: outcome.append(_resolve(fifo)), daemon=True)
    reader.start()
    reader.join(timeout=5)
    if reader.is_alive():  # unblock the hung open/read so the test process can end
        with open(fifo, "wb"):
            pass
        pytest.fail("resolving a FIFO waited for a writer")
    assert outcome[0].value is None
    assert "which is not a regular file (a named pipe)" in outcome[0].problem


def test_a_socket_is_refused(tmp_path):
    path = tmp_path / "s"
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(str(path))
        resolved = _resolve(path)
    assert resolved.value is None
    # Opening a socket fails (ENXIO) before fstat can see it: still a clear "cannot be read".
    assert "which is not a regular file (a socket)" in resolved.problem or "cannot be read" in resolved.problem


def test_a_file_larger_than_a_key_is_refused_with_its_size(tmp_path):
    big = tmp_path / "big"
    big.write_bytes(b"x" * (MAX_KEY_FILE_BYTES + 1))
    resolved = _resolve(big)
    assert resolved.value is None
    assert f"is {MAX_KEY_FILE_BYTES + 1} bytes, larger than a key file can be" in resolved.problem


def test_a_file_of_exactly_the_limit_is_read(tmp_path):
    edge = tmp_path / "edge"
    edge.write_bytes(b"k" * MAX_KEY_FILE_BYTES)
    assert len(_resolve(edge).value.reveal()) == MAX_KEY_FILE_BYTES


def test_a_directory_is_still_named_a_directory(tmp_path):
    assert "which is a directory, not a file" in _resolve(tmp_path).problem
