from flask import current_app, has_request_context, request, session
from jinja2 import pass_eval_context
from markupsafe import Markup

from market.extensions import request_catalogue
from market.josa import fill


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


def label_text(label) -> str:
    """A fixed catalogue label (a module-level lazy string) in the current
    language, looked up once per process and language. str() of a lazy string
    asks the catalogue again every time (~50 µs), and long lists and maps call
    the label functions for every row (benchmarks/results.md). Kept with the
    request's catalogue (market.extensions.request_catalogue), under the
    label's id next to the label itself, so the id cannot be reused by
    another object."""
    texts = request_catalogue()[1]
    cached = texts.get(id(label))
    if cached is None or cached[0] is not label:
        cached = texts[id(label)] = (label, str(label))
    return cached[1]


def install_template_gettext(app) -> None:
    """Templates' `_()`, gettext, ngettext, pgettext and npgettext with the
    catalogue bound once per request (market.extensions.request_catalogue)
    in place of Flask-Babel's, which looked it up again for each string:
    a third to half of a staff page's time went there, a label in a table's
    loop being translated once per row. They behave as Jinja's "newstyle"
    gettext Flask-Babel installs: the translation, Markup in an autoescaped
    template, always %-formatted with the (escaped) variables, the
    particles the translation writes fitted to them as in Python's gettext
    (market.josa.fill; a value is printed as it is). A text without
    variables is kept per catalogue, finished, so a label in a loop costs a
    dict lookup from its second row on. They take Jinja's evaluation context
    (for autoescape), not the template context: a function that takes the
    context gets a new derived context at every call inside a loop."""
    app.jinja_env.newstyle_gettext = True  # as Flask-Babel installs them
    app.jinja_env.globals.update(
        _=_template_gettext,
        gettext=_template_gettext,
        ngettext=_template_ngettext,
        pgettext=_template_pgettext,
        npgettext=_template_npgettext,
    )


@pass_eval_context
def _template_gettext(eval_context, string, /, **variables):
    translations, texts = request_catalogue()
    if not variables and type(string) is str and eval_context.autoescape:
        text = texts.get(string)
        if text is None:
            text = texts[string] = fill(Markup(translations.ugettext(string)), variables)
        return text
    text = translations.ugettext(string)
    if eval_context.autoescape:
        text = Markup(text)
    return fill(text, variables)


@pass_eval_context
def _template_ngettext(eval_context, singular, plural, num, /, **variables):
    variables.setdefault("num", num)
    text = request_catalogue()[0].ungettext(singular, plural, num)
    if eval_context.autoescape:
        text = Markup(text)
    return fill(text, variables)


@pass_eval_context
def _template_pgettext(eval_context, string_context, string, /, **variables):
    variables.setdefault("context", string_context)
    text = request_catalogue()[0].upgettext(string_context, string)
    if eval_context.autoescape:
        text = Markup(text)
    return fill(text, variables)


@pass_eval_context
def _template_npgettext(eval_context, string_context, singular, plural, num, /, **variables):
    variables.setdefault("context", string_context)
    variables.setdefault("num", num)
    text = request_catalogue()[0].unpgettext(string_context, singular, plural, num)
    if eval_context.autoescape:
        text = Markup(text)
    return fill(text, variables)
