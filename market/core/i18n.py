from flask import current_app, has_request_context, request, session


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
