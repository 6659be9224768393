"""The baseline for the import: csv.reader and executemany of the same file
into a plain table (text columns, no index, no constraint), 2,000 rows per
executemany with a commit after each; no parsing, no checks.

    python -m benchmarks.bare_load DATABASE_URL FILE"""

import csv
import json
import sys
import time

BATCH = 2000  # rows per executemany and commit
COLUMNS = 10


def connect(url: str):
    if url.startswith("sqlite:///"):
        import sqlite3

        return sqlite3.connect(url.removeprefix("sqlite:///")), "?"
    import psycopg

    return psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")), "%s"


def main(url: str, path: str) -> None:
    connection, mark = connect(url)
    cursor = connection.cursor()
    cursor.execute("DROP TABLE IF EXISTS bare_orders")
    names = ", ".join(f"c{n} TEXT" for n in range(COLUMNS))
    cursor.execute(f"CREATE TABLE bare_orders ({names})")
    connection.commit()
    insert = f"INSERT INTO bare_orders VALUES ({', '.join([mark] * COLUMNS)})"
    started, rows = time.perf_counter(), 0
    with open(path, encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle)
        next(reader)
        batch = []
        for row in reader:
            batch.append(row)
            if len(batch) >= BATCH:
                cursor.executemany(insert, batch)
                connection.commit()
                rows, batch = rows + len(batch), []
        if batch:
            cursor.executemany(insert, batch)
            connection.commit()
            rows += len(batch)
    seconds = time.perf_counter() - started
    cursor.execute("DROP TABLE bare_orders")
    connection.commit()
    connection.close()
    print(json.dumps({"rows": rows, "seconds": seconds}))


if __name__ == "__main__":
    main(*sys.argv[1:])
