"""Cluster key files through the Python API and the `hddnn keygen` CLI."""
import os
import stat
import subprocess
import sys

import pytest

import hddnn.crypto
from hddnn.errors import CryptoError


def mode_of(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "hddnn", *args], capture_output=True, text=True)


def test_keygen_writes_owner_only_file(tmp_path):
    path = hddnn.crypto.keygen(tmp_path / "cluster.key")
    assert mode_of(path) == 0o600
    text = path.read_text()
    assert text.startswith("hddnn-cluster-key-v1 ") and text.endswith("\n")
    assert hddnn.crypto.check_key(path) == path


def test_keygen_makes_distinct_keys(tmp_path):
    a = hddnn.crypto.keygen(tmp_path / "a.key").read_text()
    b = hddnn.crypto.keygen(tmp_path / "b.key").read_text()
    assert a != b


def test_keygen_refuses_to_overwrite_unless_asked(tmp_path):
    path = hddnn.crypto.keygen(tmp_path / "cluster.key")
    before = path.read_text()
    with pytest.raises(CryptoError, match="cluster.key"):
        hddnn.crypto.keygen(path)
    hddnn.crypto.keygen(path, overwrite=True)
    assert path.read_text() != before and mode_of(path) == 0o600


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604])
def test_group_or_other_readable_key_is_refused(tmp_path, mode):
    path = hddnn.crypto.keygen(tmp_path / "cluster.key")
    os.chmod(path, mode)
    with pytest.raises(CryptoError, match=f"{path}.*mode 0{mode:o}.*expected 0600"):
        hddnn.crypto.check_key(path)


@pytest.mark.parametrize("text, message", [
    ("hddnn-cluster-key-v1 AAAA\n", "3 bytes, expected 32"),
    ("not a key\n", "hddnn-cluster-key-v1"),
    ("hddnn-cluster-key-v1 ***\n", "base64"),
])
def test_malformed_key_file_is_refused_naming_it(tmp_path, text, message):
    path = tmp_path / "bad.key"
    path.write_text(text)
    os.chmod(path, 0o600)
    with pytest.raises(CryptoError, match=message) as info:
        hddnn.crypto.check_key(path)
    assert str(path) in str(info.value)


def test_cli_keygen(tmp_path):
    path = tmp_path / "cluster.key"
    done = run_cli("keygen", "--out", str(path))
    assert done.returncode == 0, done.stderr
    assert "cluster.key" in done.stdout
    assert mode_of(path) == 0o600
    again = run_cli("keygen", "--out", str(path))
    assert again.returncode == 2
    assert "CryptoError" in again.stderr and str(path) in again.stderr
    forced = run_cli("keygen", "--out", str(path), "--force")
    assert forced.returncode == 0, forced.stderr
    hddnn.crypto.check_key(path)


def test_cli_keygen_needs_out():
    assert run_cli("keygen").returncode != 0
