"""The catalogue is complete and an installed (non-editable) package works."""

import ast
import configparser
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
KEYWORDS = {"_": None, "gettext": None, "lazy_gettext": None, "_l": None, "ngettext": (1, 2)}


def _extracted_ids() -> set[str]:
    method_map = [("market/**.py", "python"), ("templates/**.html", "jinja2")]
    ids = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map=method_map, keywords=KEYWORDS
    ):
        ids.add(message if isinstance(message, str) else message[0])
    return ids


def test_korean_catalogue_translates_every_string():
    with open(ROOT / "market/translations/ko/LC_MESSAGES/messages.po", "rb") as handle:
        catalog = read_po(handle, locale="ko")
    translated = {
        (m.id if isinstance(m.id, str) else m.id[0])
        for m in catalog
        # A plural entry's string is a tuple, truthy even when its forms are empty.
        if m.id
        and all(m.string if isinstance(m.string, tuple) else [m.string])
        and "fuzzy" not in m.flags
    }
    missing = sorted(_extracted_ids() - translated)
    assert missing == [], "untranslated strings (run `make messages`):\n" + "\n".join(missing)


GETTEXT_NAMES = {"_", "_l", "gettext", "lazy_gettext", "ngettext", "pgettext"}


def test_no_message_is_hidden_inside_an_f_string():
    """pybabel does not look into f-strings: `f"{_('My booth')}"` was never
    extracted, `make messages` then dropped its Korean, and vendors read
    "My booth" on their own map. Call gettext outside the f-string."""
    hidden = []
    for path in sorted((ROOT / "market").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if not isinstance(node, ast.JoinedStr):
                continue
            for inner in ast.walk(node):
                if (
                    isinstance(inner, ast.Call)
                    and isinstance(inner.func, ast.Name)
                    and inner.func.id in GETTEXT_NAMES
                ):
                    hidden.append(f"{path.relative_to(ROOT)}:{inner.lineno}")
    assert hidden == []


def _shipped_folders() -> set[str]:
    """Every folder of the package and of templates/ and static/, as dotted names."""
    folders = set()
    for top, prefix in (
        ("market", "market"),
        ("templates", "market.templates"),
        ("static", "market.static"),
    ):
        for path in [ROOT / top, *(ROOT / top).rglob("*")]:
            if (
                path.is_dir()
                and path.name != "__pycache__"
                and any(child.is_file() and child.suffix != ".pyc" for child in path.iterdir())
            ):
                relative = path.relative_to(ROOT / top).parts
                folders.add(".".join((prefix, *relative)))
    return folders


def test_setup_cfg_lists_every_shipped_folder():
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")
    listed = set(config["options"]["packages"].split())
    assert listed == _shipped_folders()


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    command = [sys.executable, "-m", "build", "--wheel", "--no-isolation"]
    build = subprocess.run(
        [*command, "--outdir", str(out), str(ROOT)], check=True, capture_output=True, text=True
    )
    assert "is absent from the `packages` configuration" not in build.stdout + build.stderr
    return next(out.glob("*.whl"))


def test_wheel_ships_templates_static_migrations_and_all_modules(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for template in ROOT.glob("templates/**/*.html"):
        assert f"market/templates/{template.relative_to(ROOT / 'templates')}" in names
    assert "market/static/css/app.css" in names
    for module in ROOT.glob("market/**/*.py"):
        assert str(module.relative_to(ROOT)) in names, f"{module} missing: add it to setup.cfg"
    assert "market/migrations/alembic.ini" in names
    assert "market/translations/ko/LC_MESSAGES/messages.mo" in names


def test_installed_package_finds_its_templates(wheel, tmp_path):
    target = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--target",
            str(target),
            str(wheel),
        ],
        check=True,
    )
    script = (
        "import market, market.paths;"
        "app = market.create_app({'SECRET_KEY': 'x', 'SQLALCHEMY_DATABASE_URI': 'sqlite://'});"
        "print(app.template_folder); print(app.static_folder);"
        "client = app.test_client(); r = client.get('/account/login');"
        "print(r.status_code, '로그인' in r.get_data(as_text=True))"
    )
    env = {
        "PYTHONPATH": str(target),
        "MARKET_INSTANCE_PATH": str(tmp_path / "instance"),
        "PATH": "/usr/bin:/bin",
    }
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    template_folder, static_folder, status = result.stdout.splitlines()
    assert template_folder.startswith(str(target))
    assert static_folder.startswith(str(target))
    assert status == "200 True"
