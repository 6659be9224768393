"""Where the templates and static files live.

In a source checkout (and an editable install) they are the top-level
``templates/`` and ``static/`` folders; a wheel ships the same folders inside
the package as ``market/templates`` and ``market/static`` (see setup.cfg).
"""

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent


def resource_dir(name: str) -> Path:
    source_tree = PACKAGE_DIR.parent / name
    if source_tree.is_dir() and (PACKAGE_DIR.parent / "setup.cfg").is_file():
        return source_tree
    return PACKAGE_DIR / name
