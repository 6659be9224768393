from flask import current_app, has_request_context, request, session
from flask_babel import get_locale


def select_locale() -> str:
    """The language chosen in this session, else Korean.

    Korean is the default for everyone (the browser's Accept-Language is not
    consulted: staff phones set to English still expect the Korean screens).
    Outside a request (CLI commands, the mail worker) it is the default."""
    languages = current_app.config["LANGUAGES"]
    if has_request_context():
        if session.get("lang") in languages:
            return session["lang"]
        if request.args.get("lang") in languages:
            return request.args["lang"]
    return current_app.config["BABEL_DEFAULT_LOCALE"]


# (language, id of the lazy label) -> (the label, its text). The label is kept
# in the value so its id cannot be reused by another object.
_LABEL_TEXTS: dict[tuple[str, int], tuple[object, str]] = {}


def label_text(label) -> str:
    """A fixed catalogue label (a module-level lazy string) in the current
    language, looked up once per process and language. str() of a lazy string
    asks the catalogue again every time (~50 µs), and long lists and maps call
    the label functions for every row (benchmarks/results.md)."""
    key = (str(get_locale()), id(label))
    cached = _LABEL_TEXTS.get(key)
    if cached is None or cached[0] is not label:
        cached = _LABEL_TEXTS[key] = (label, str(label))
    return cached[1]
