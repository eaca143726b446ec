"""The output folder is checked before a server is asked to build anything."""
from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from plugin.core.errors import OutputFolderFullError, OutputFolderMissingError, OutputFolderReadOnlyError
from plugin.core.output import BYTES_PER_TILE_FLOOR, check_output_folder, needed_bytes, output_folder


def test_a_missing_folder_is_named():
    with pytest.raises(OutputFolderMissingError) as info:
        check_output_folder("/no/such/folder")
    assert "/no/such/folder" in info.value.user_message and "does not exist" in info.value.user_message


def test_a_folder_without_room_says_how_much_is_needed_and_free(tmp_path):
    with pytest.raises(OutputFolderFullError) as info:
        check_output_folder(tmp_path, 10 ** 18)
    text = info.value.user_message
    assert str(tmp_path) in text and "needs about" in text and "Free some disk space" in text
    check_output_folder(tmp_path, 1000)  # room enough: no error, and no probe file left behind
    assert list(tmp_path.iterdir()) == []


def test_a_read_only_folder_is_not_called_full():
    folder = Path("/sys/kernel")
    try:
        (folder / f"probe-{uuid.uuid4().hex}").touch()
    except OSError:
        pass
    else:
        pytest.skip("/sys/kernel is writable here")
    with pytest.raises(OutputFolderReadOnlyError) as info:
        check_output_folder(folder)
    assert "/sys/kernel" in info.value.user_message and "disk space" not in info.value.user_message


def test_room_needed_uses_the_estimate_else_the_per_tile_floor(tmp_path):
    assert needed_bytes(1000) == 1000 * BYTES_PER_TILE_FLOOR
    assert needed_bytes(1000, 5e6) == 5_000_000
    assert needed_bytes(1000, 5e6, copies=2) == 10_000_000  # parts and their merged file at once
    assert output_folder(tmp_path / "a.tpkx") == tmp_path
    assert output_folder(tmp_path) == tmp_path
