"""tox's inline plugin for this project: find the extra Pythons where pyenv has them, and say what a skip means.

The ``-py310`` / ``-py313`` environments run the tests on the oldest and newest Python the AG2 lines support.
Where pyenv installed those Pythons but they are not active, they are made visible to tox; where a Python is
missing altogether, tox skips its environments (``skip_missing_interpreters``) and this plugin says which
Python they need and how to add it. CI sets ``TOX_SKIP_MISSING_INTERPRETERS=false``, so there a missing
Python fails the run instead.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
from typing import Any

from tox.plugin import impl

_EXTRA_PYTHONS = ("3.10", "3.13")
_LOGGER = logging.getLogger(__name__)


def _pyenv(*arguments: str) -> list[str]:
    """pyenv's output lines, or none when pyenv is absent or fails."""
    if shutil.which("pyenv") is None:
        return []
    try:
        done = subprocess.run(["pyenv", *arguments], capture_output=True, text=True, timeout=30, check=True)
    except (OSError, subprocess.SubprocessError):
        return []
    return done.stdout.split()


def _newest_installed(versions: list[str], minor: str) -> str | None:
    """The newest ``minor.N`` among pyenv's installed versions."""
    patches = [v for v in versions if v.startswith(minor + ".") and v[len(minor) + 1 :].isdigit()]
    return max(patches, key=lambda v: int(v.rsplit(".", 1)[1]), default=None)


def _pyenv_version_with_extras(active: str) -> str | None:
    """``active`` (pyenv's versions, ``:``-separated, the default first) with the installed extra Pythons added,
    or ``None`` when pyenv has none to add."""
    installed = _pyenv("versions", "--bare")
    extras = [found for minor in _EXTRA_PYTHONS if (found := _newest_installed(installed, minor))]
    if not extras or not active:
        return None
    return ":".join(dict.fromkeys([*active.split(":"), *extras]))


def _readable(spec: str) -> str:
    """``py310`` -> ``3.10``; other specs as they are."""
    if spec.startswith("py3") and spec[3:].isdigit():
        return f"3.{spec[3:]}"
    return spec


@impl
def tox_add_core_config(core_conf: Any, state: Any) -> None:
    """Before any environment looks for its Python: let pyenv's shims answer for the extra Pythons too (pyenv's
    own ``tox`` shim sets ``PYENV_VERSION`` to the default alone; what it names stays first)."""
    active = os.environ.get("PYENV_VERSION") or next(iter(_pyenv("version-name")), "")
    if version := _pyenv_version_with_extras(active):
        os.environ["PYENV_VERSION"] = version
        if not os.environ.get("PYENV_ROOT") and (root := _pyenv("root")):
            os.environ["PYENV_ROOT"] = root[0]  # where the shims resolve to


@impl
def tox_env_teardown(tox_env: Any) -> None:
    """After an environment skipped for a missing Python: name the Python and how to add it."""
    from tox.tox_env.errors import Skip

    try:
        tox_env.base_python  # noqa: B018 -- cached: raises Skip when tox found no interpreter for it
    except Skip:
        wanted = " or ".join(_readable(spec) for spec in tox_env.conf["base_python"])
        _LOGGER.warning(
            "%s needs Python %s, which is not installed here: it was skipped and the other environments ran. "
            "To run it, install that Python so that tox finds it (python%s on PATH, or `pyenv install %s`) "
            "and run tox again.",
            tox_env.conf.name,
            wanted,
            wanted,
            wanted,
        )
    except Exception:  # an environment of another kind, or a tox that works otherwise: say nothing
        return
