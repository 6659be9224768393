"""Where the time goes: every page of benchmarks.pages rendered in-process
(Flask test client, the same logins) on the full data set under
pyinstrument, a few seconds each, and the top of each profile kept for the
results: the functions with the most time of their own (library code
included: that is where the time is spent) and the functions of this
project (market/ and the templates) with the most time under them, each as
function, file:line and percent of the page's profiled time.

Bounded: each page is profiled for about BUDGET_SECONDS (at least
MIN_RENDERS, at most MAX_RENDERS renders), after a warm-up request and the
median of up to PLAIN_RENDERS renders without the profiler (which slows
what it samples: its percentages are shares, its milliseconds are not)
within a third of that. A page slower than the budget is rendered three
times: the warm-up (which builds what a page keeps), one measured, one
profiled."""

import statistics
import time
from collections import Counter
from pathlib import Path

from benchmarks.common import ROOT, Context, Database, make_app, say
from benchmarks.pages import _client_login, _configs, _logins, page_list

BUDGET_SECONDS = 3.0
MIN_RENDERS = 1
MAX_RENDERS = 200
PLAIN_RENDERS = 5
INTERVAL = 0.0005  # pyinstrument's sampling interval, seconds
TOP = 5
# A project frame with this share of its time in one project frame below it
# only passes the time on (extends, wrappers): not shown.
PASS_THROUGH = 0.8
PROJECT = (str(ROOT / "market") + "/", str(ROOT / "templates") + "/")


def measure_profiles(db: Database, ctx: Context) -> list[dict]:
    pages = page_list(make_app(db, ctx.instance), db.anchor)
    rows: dict[str, dict] = {}
    for config in _configs(pages):
        keys = {page.key for page in pages if page.config == config}
        rows.update(_profile_pages(db, ctx, config, keys))
    return [rows[page.key] for page in pages if page.key in rows]


def _profile_pages(db: Database, ctx: Context, config: dict, keys: set[str]) -> dict:
    from market.extensions import db as sqla

    # What building each page costs (a kept staff page costs little; what a
    # first look after a change costs is this).
    app = make_app(db, ctx.instance, {**config, "STAFF_PAGE_CACHE": False})
    clients = {None: app.test_client()}
    for role, (email, password) in _logins().items():
        if role in ("staff", "vendor"):
            clients[role] = app.test_client()
            _client_login(clients[role], email, password)
    rows = {}
    try:
        for page in page_list(app, db.anchor):
            if page.key not in keys:
                continue
            if page.path is None:
                rows[page.key] = {"key": page.key, "title": page.title, "path": None}
                continue
            client = clients[page.login]
            headers = dict(page.headers)
            if page.note == "etag":
                headers["If-None-Match"] = client.get(page.path).headers["ETag"]

            def render(client=client, page=page, headers=headers):
                response = client.get(page.path, headers=headers)
                if response.status_code != page.expect:
                    raise RuntimeError(f"{page.path}: {response.status_code}, not {page.expect}")

            view = view_location(app, page.path)
            rows[page.key] = {"key": page.key, "title": page.title, **profile(render, view)}
            row = rows[page.key]
            say(
                f"profile of {page.title}: {row['renders']} renders, "
                f"{row['plain_ms']:.1f} ms each without the profiler"
            )
    finally:
        with app.app_context():
            sqla.engine.dispose()
    return rows


def profile(render, view=None, budget: float = BUDGET_SECONDS) -> dict:
    """`render` called under the profiler for about `budget` seconds; the
    top of the profile, by own time and by project frames' total time
    (below `view`, see top_frames)."""
    from pyinstrument import Profiler

    render()  # warm-up: per-process caches, the first connection
    plain: list[float] = []
    deadline = time.perf_counter() + budget / 3
    while not plain or (len(plain) < PLAIN_RENDERS and time.perf_counter() < deadline):
        started = time.perf_counter()
        render()
        plain.append(time.perf_counter() - started)
    profiler = Profiler(interval=INTERVAL)
    renders = 0
    deadline = time.perf_counter() + budget
    profiler.start()
    try:
        while renders < MIN_RENDERS or (renders < MAX_RENDERS and time.perf_counter() < deadline):
            render()
            renders += 1
    finally:
        profiler.stop()
    own, total, whole = top_frames(profiler.last_session.root_frame(), view)
    return {
        "renders": renders,
        "plain_ms": statistics.median(plain) * 1000,
        "profiled_ms": whole / renders * 1000,
        "own": own,
        "cumulative": total,
    }


def top_frames(root, view=None, top: int = TOP) -> tuple[list[dict], list[dict], float]:
    """(the `top` frames by own time, the `top` informative project frames
    by total time, the whole time). A function counts once per stack
    (recursion is not counted twice) and once over all the places it is
    called from.

    Informative: below the page's view function `view` ((file, first
    line); the view itself, the decorators and hooks above it cover the
    whole request), and not a frame that passes nearly all its time on to
    one project frame below it (a template's `root` that only extends
    base.html, base.html's `root` around the page's block)."""
    own: Counter = Counter()
    total: Counter = Counter()
    passing: Counter = Counter()
    below = view is None or not _contains(root, view)
    stack = [(root, frozenset(), below)]
    while stack:
        frame, above, below = stack.pop()
        if frame.is_synthetic:  # pyinstrument's "[self]": time of its parent
            continue
        key = (frame.function, frame.file_path, frame.line_no)
        at_view = view is not None and (frame.file_path, frame.line_no) == view
        own[key] += frame.total_self_time
        if _is_project(frame) and below and key not in above:
            total[key] += frame.time
            inner: Counter = Counter()  # a generator's frame (a template block) comes in pieces
            for below_frame in _project_below(frame):
                inner[(below_frame.function, below_frame.file_path)] += below_frame.time
            if inner and max(inner.values()) >= PASS_THROUGH * frame.time:
                passing[key] += frame.time
        stack.extend((child, above | {key}, below or at_view) for child in frame.children)
    whole = root.time or 1e-9

    def entry(key, seconds) -> dict:
        function, path, line = key
        return {
            "function": function,
            "where": f"{short_path(path)}:{line}",
            "percent": round(100 * seconds / whole, 1),
        }

    project = [
        (key, seconds)
        for key, seconds in total.most_common()
        if passing[key] < seconds / 2 and seconds >= whole / 100
    ]
    return (
        [entry(key, seconds) for key, seconds in own.most_common(top)],
        [entry(key, seconds) for key, seconds in project[:top]],
        whole,
    )


def _is_project(frame) -> bool:
    return (frame.file_path or "").startswith(PROJECT)


def _contains(frame, view) -> bool:
    stack = [frame]
    while stack:
        frame = stack.pop()
        if (frame.file_path, frame.line_no) == view:
            return True
        stack.extend(frame.children)
    return False


def _project_below(frame) -> list:
    """The nearest project frames under `frame` (through library frames)."""
    found, stack = [], list(frame.children)
    while stack:
        child = stack.pop()
        if child.is_synthetic:
            continue
        if _is_project(child):
            found.append(child)
        else:
            stack.extend(child.children)
    return found


def view_location(app, path: str) -> tuple[str, int] | None:
    """Where the view function that answers `path` is defined (file, first
    line), its decorators unwrapped."""
    import inspect

    try:
        endpoint, _args = app.url_map.bind("localhost").match(path.split("?", 1)[0])
    except Exception:  # a redirect or no match: profile the whole request
        return None
    function = inspect.unwrap(app.view_functions[endpoint])
    code = getattr(function, "__code__", None)
    return (code.co_filename, code.co_firstlineno) if code else None


def short_path(path: str | None) -> str:
    """market/home/dashboard.py, sqlalchemy/orm/loading.py: from the checkout
    or from site-packages; the file name otherwise."""
    if not path:
        return "?"
    if "site-packages/" in path:  # the venv lives in the checkout too
        return path.split("site-packages/", 1)[1]
    if path.startswith(str(ROOT) + "/"):
        return path[len(str(ROOT)) + 1 :]
    if "/lib/python3" in path:  # the standard library: /usr/lib/python3.11/json/...
        tail = path.split("/lib/python3", 1)[1]
        return tail.split("/", 1)[1] if "/" in tail else tail
    return Path(path).name
