from flask import current_app, request

from market.extensions import db


def paginate(query, per_page: int | None = None):
    """One pagination for every list: ?page=N, size from PAGE_SIZE, never
    an error for a page past the end (it shows empty)."""
    return db.paginate(
        query,
        page=request.args.get("page", 1, type=int),
        per_page=per_page or current_app.config["PAGE_SIZE"],
        max_per_page=200,
        error_out=False,
    )
