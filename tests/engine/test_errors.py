"""Every error of plugin/core/errors.py tells the user what happened and what to do next, without secrets."""
from __future__ import annotations

import ast
import re
import string
from pathlib import Path

import pytest

from plugin.core import errors
from plugin.core.errors import ArcGISOfflineTilesError

SECRET = "S3CR3T-T0KEN"
SECRET_URL = f"https://gis.example.com/arcgis/rest/services/X/MapServer?token={SECRET}&f=json"
# What counts as "saying what to do next": the message's last sentence holds one of these instructions.
# A message that only describes what happened ("The export failed.") has none of them.
INSTRUCTIONS = re.compile(r"\b(check|choose|try|retry|start|ask|use|free|export|draw|change|resume|"
                          r"report|let|download|sign in)\b", re.IGNORECASE)


def _error_classes() -> list[type[ArcGISOfflineTilesError]]:
    found, todo = [ArcGISOfflineTilesError], [ArcGISOfflineTilesError]
    while todo:
        for sub in todo.pop().__subclasses__():
            if sub not in found:
                found.append(sub)
                todo.append(sub)
    return [cls for cls in found if cls.__module__ == errors.__name__]


def _fields(template: str) -> list[str]:
    return [name for _, name, _, _ in string.Formatter().parse(template) if name]


def test_every_error_class_is_found():
    names = {cls.__name__ for cls in _error_classes()}
    assert {"ArcGISOfflineTilesError", "ServiceError", "AuthError", "InvalidRequestError", "JobError",
            "JobFailedError", "JobCancelledError", "JobTimedOutOnServerError", "PackageError"} <= names
    assert len(names) == len([n for n, v in vars(errors).items()
                              if isinstance(v, type) and issubclass(v, ArcGISOfflineTilesError)])


@pytest.mark.parametrize("cls", _error_classes(), ids=lambda cls: cls.__name__)
def test_user_message_says_what_to_do_and_holds_no_secret(cls):
    params = {name: f"{name} at {SECRET_URL}" for name in _fields(cls.template)}
    error = cls(details=f"GET {SECRET_URL}&api_key={SECRET}", **params)
    message = error.user_message
    assert message.strip() and "{" not in message and str(error) == message
    assert SECRET not in message and SECRET not in error.details and SECRET not in repr(error.args)
    last_sentence = re.split(r"(?<=[.!?])\s+", message.strip())[-1]
    assert INSTRUCTIONS.search(last_sentence), f"{cls.__name__} does not say what to do next: {message!r}"


def test_a_reason_ending_in_a_full_stop_reads_well():
    assert "failed. Try again" in str(errors.JobFailedError(reason="ERROR 000001: the tool failed."))
    assert "server: Exporting. Try" in str(errors.JobFailedError(reason="Exporting..."))


def test_every_template_is_marked_for_translation():
    """pylupdate finds a class's template only inside QT_TRANSLATE_NOOP("errors", ...)."""
    tree = ast.parse(Path(errors.__file__).read_text(encoding="utf-8"))
    templates = [node.value for cls in tree.body if isinstance(cls, ast.ClassDef) for node in cls.body
                 if isinstance(node, (ast.Assign, ast.AnnAssign))
                 and any(getattr(t, "id", None) == "template"
                         for t in (node.targets if isinstance(node, ast.Assign) else [node.target]))]
    assert len(templates) >= len(_error_classes()) - 1  # JobFailedError inherits JobError's
    for value in templates:
        assert isinstance(value, ast.Call) and value.func.id == "QT_TRANSLATE_NOOP", ast.dump(value)
        assert value.args[0].value == "errors" and isinstance(value.args[1], ast.Constant)


def test_a_hostile_echo_stays_one_readable_line():
    """A zip header's bytes, a member name or a server's text end up in messages: line breaks, control
    and bidi characters and megabytes of text must not garble or flood QGIS's message bar."""
    echo = "header b'{\x00\x1b[31m\n\u202etxt.exe' differ " + "A" * 100_000
    message = errors.PackageError(path="/data/alps.tpkx", reason=echo).user_message
    assert message.startswith("The tile package /data/alps.tpkx cannot be read: header b'{??[31m ?txt.exe' differ")
    assert len(message) < errors.MAX_PARAM_CHARS + 200
    assert message.endswith("or choose another package.")  # what to do next is never cut off
    assert not any(ord(ch) < 32 or 0x202A <= ord(ch) <= 0x202E for ch in message)
