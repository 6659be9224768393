from flask import current_app, request
from flask_sqlalchemy.pagination import Pagination

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


class RowPagination(Pagination):
    """A page of result rows (several columns, as from a GROUP BY), where
    db.paginate would keep only the first column of each. The total comes
    from the caller, who usually has it already (a report's summary counts
    its rows), so a page costs one query and no COUNT."""

    def _query_items(self) -> list:
        query = self._query_args["query"].limit(self.per_page).offset(self._query_offset)
        return db.session.execute(query).all()

    def _query_count(self) -> int:
        return self._query_args["total"]


def paginate_rows(query, total: int, per_page: int, param: str = "page") -> RowPagination:
    """Like paginate, for a row query; `param` lets two tables on one page
    turn their pages independently."""
    return RowPagination(
        page=request.args.get(param, 1, type=int),
        per_page=per_page,
        max_per_page=200,
        error_out=False,
        query=query,
        total=total,
    )
