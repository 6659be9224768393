from flask import abort, current_app, request
from flask_sqlalchemy.pagination import Pagination

from market.extensions import db

# No list here comes near this many pages; a larger number is a mistyped or
# hostile address, and its OFFSET would overflow the databases' integers.
MAX_PAGE = 100_000


def page_number(param: str = "page") -> int:
    """The page asked for in ?<param>=N, read in one place for every list:
    1 when it is missing or not a number (a page below 1 is shown as the
    first), and a 404 above MAX_PAGE."""
    page = request.args.get(param, 1, type=int)
    if page > MAX_PAGE:
        abort(404)
    return page


def paginate(query, per_page: int | None = None):
    """One pagination for every list: ?page=N, size from PAGE_SIZE, never
    an error for a page past the end (it shows empty)."""
    return db.paginate(
        query,
        page=page_number(),
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


class ListPagination(Pagination):
    """A page of rows already at hand (`rows`), where the page needs every
    row anyway (a report's totals over all of them): paging is slicing."""

    def _query_items(self) -> list:
        start = self._query_offset
        return self._query_args["rows"][start : start + self.per_page]

    def _query_count(self) -> int:
        return len(self._query_args["rows"])


def paginate_rows(query, total: int, per_page: int, param: str = "page") -> RowPagination:
    """Like paginate, for a row query; `param` lets two tables on one page
    turn their pages independently."""
    return RowPagination(
        page=page_number(param),
        per_page=per_page,
        max_per_page=200,
        error_out=False,
        query=query,
        total=total,
    )
