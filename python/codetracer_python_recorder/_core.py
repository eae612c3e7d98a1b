"""Import the native core and check that it is the version this package was released with.

The two distributions are released together and pinned with ``==``; a mismatch means a broken
install (e.g. one of them upgraded alone), which would fail later in confusing ways. Editable /
source-tree installs are exempt: developers rebuild the core and the Python layer separately.

``importlib.metadata`` is imported only when the versions differ: it takes ~40 ms to import,
more than the rest of the package, and every recorded process would pay it at start-up.
"""

from __future__ import annotations

import json

import codetracer_python_recorder_core as core

from codetracer_python_recorder._version import __version__

DIST_NAME = "codetracer-python-recorder"
CORE_DIST_NAME = "codetracer-python-recorder-core"


def is_development_install(dist_name: str) -> bool:
    """Whether ``dist_name`` is an editable install, or not installed as a distribution at all."""
    from importlib import metadata  # noqa: PLC0415 - slow to import; rarely needed (see above)

    try:
        dist = metadata.distribution(dist_name)
    except metadata.PackageNotFoundError:
        return True  # imported from a source tree (PYTHONPATH): a developer setup
    text = dist.read_text("direct_url.json")
    if not text:
        return False
    try:
        data = json.loads(text)
    except ValueError:
        return False
    dir_info = data.get("dir_info") if isinstance(data, dict) else None
    return isinstance(dir_info, dict) and bool(dir_info.get("editable"))


def check_core_version() -> None:
    """Raise ImportError when the installed core's version differs from this package's."""
    core_version = core.__version__
    if core_version == __version__:
        return
    if is_development_install(DIST_NAME) or is_development_install(CORE_DIST_NAME):
        return
    raise ImportError(
        f"{DIST_NAME} {__version__} needs {CORE_DIST_NAME}=={__version__}, but version "
        f"{core_version} is installed. The two must be installed together; reinstall both: "
        f"pip install --force-reinstall '{DIST_NAME}=={__version__}' "
        f"'{CORE_DIST_NAME}=={__version__}'"
    )
