"""A target written "file:~/x" is the local file (measured: Qwen2.5-Coder-1.5B's launch_app(target=
"file:~/shopping.txt") was refused as a URL, and it opened the made-up URL with open_with_default)."""

from __future__ import annotations

from pathlib import Path

import pytest

from llmos.servers.apps.exec_line import as_file


def test_file_targets_without_slashes_are_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    assert as_file("file:~/shopping.txt", "launch_app") == str(tmp_path / "shopping.txt")
    assert as_file(f"file://{tmp_path}/my%20notes.txt", "launch_app") == str(tmp_path / "my notes.txt")
    with pytest.raises(Exception, match="not URLs"):
        as_file("https://example.org/a", "launch_app")
