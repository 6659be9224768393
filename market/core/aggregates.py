"""SQL aggregates shared by the reports (takings, 판로지원 실적)."""

from sqlalchemy import BigInteger, cast, func


def sum_won(expression):
    """SUM of a money column in integer won: 0 over no rows, and BIGINT on
    both databases (PostgreSQL returns SUM(bigint) as numeric)."""
    return cast(func.coalesce(func.sum(expression), 0), BigInteger)
