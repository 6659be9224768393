"""Rendered pieces of pages kept per process, keyed by the values they show.

A fragment (a market's card in the schedule, a booth map) is a pure function
of a few values and the language; the same values are asked for on every
visit. The key is those values themselves, not a version number, so there
is nothing to invalidate: a changed market simply has a new key, and the
old entry ages out. Profiles showed rendering these was most of the public
pages' time (benchmarks/results.md)."""

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable

from flask import render_template, request
from flask_babel import get_locale
from markupsafe import Markup

MAX_ENTRIES = 2048


class _LastUsed:
    """A bounded map that forgets the entry used longest ago."""

    def __init__(self, size: int):
        self.size = size
        self._items: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get_or_make(self, key: Hashable, make: Callable[[], object]):
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        value = make()  # outside the lock: rendering may take a while
        with self._lock:
            self._items[key] = value
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return value

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


_fragments = _LastUsed(MAX_ENTRIES)


def cached(kind: str, key: Hashable, make: Callable[[], object]):
    """`make()` once per kind, key, language and app root (links in the
    fragment are relative to it)."""
    full_key = (kind, str(get_locale()), request.script_root, key)
    return _fragments.get_or_make(full_key, make)


def render_cached(template: str, key: Hashable, **context) -> Markup:
    """`template` rendered with `context`, once per `key` (which must hold
    every value the template reads from the context)."""
    return cached(template, key, lambda: Markup(render_template(template, **context)))


def clear() -> None:
    _fragments.clear()
