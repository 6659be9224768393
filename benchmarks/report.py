"""The table: one row per measurement and database, with the ratio that
its target is about and whether it is met. Prints it, and with
--write replaces the generated part of benchmarks/results.md (between the
`bench:begin` and `bench:end` markers); the notes around it are kept.

    python -m benchmarks.report RUN/sqlite.json RUN/postgresql.json --write benchmarks/results.md"""

import argparse
import json
from pathlib import Path

BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"
PAGE_FACTOR = 4  # median within 4x /healthz
IMPORT_FACTOR, IMPORT_MIB = 3, 300
RANKING_FACTOR = 2
SPEEDUP, ONE_VS_BARE = 3, 2
QUEUE_SECONDS, QUEUE_COUNT, QUEUE_VS_BARE = 10, 10_000, 2  # ≤ 10 s per 10,000, ≤ 2× bare
NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}


def _ok(met: bool | None) -> str:
    return "n/a" if met is None else ("yes" if met else "**no**")


def _error(section) -> str | None:
    if section is None:
        return "not run"
    if isinstance(section, dict) and "error" in section:
        return f"failed: {section['error']}"
    return None


def page_rows(db: str, pages) -> list[tuple]:
    problem = _error(pages)
    if problem:
        return [("key pages", db, problem, "", "", "")]
    healthz = next(p for p in pages if p["key"] == "healthz")
    rows = []
    for page in pages:
        queries = page.get("queries")
        small = page.get("queries_small")
        built, built_small = page.get("queries_built"), page.get("queries_built_small")
        grows = any(
            big is not None and little is not None and big > little
            for big, little in ((queries, small), (built, built_small))
        )
        if page["path"] is None:
            rows.append((page["title"], db, "not available yet", "", "", ""))
            continue
        result = (
            f"median {page['p50_ms']:.1f} ms, p95 {page['p95_ms']:.1f} ms, "
            f"{page['rps']:,.0f} req/s; {queries} SQL (small data: {small})"
        )
        if built is not None and built != queries:  # a kept page: what building it runs
            result += f", {built} SQL when built (small data: {built_small})"
        if page["unexpected_status"] or page["socket_errors"]:
            result += f"; {page['unexpected_status']} bad status, {page['socket_errors']} errors"
        if page["key"] == "healthz":
            rows.append((page["title"], db, result, "1×", "the ceiling", ""))
            continue
        factor = page.get("target") or PAGE_FACTOR  # runs saved before pages had one
        target = f"≤ {factor}× /healthz, SQL count flat"
        if not page["requests"]:  # none answered within the run: no median to compare
            rows.append(
                (page["title"], db, result + "; no request finished", "", target, _ok(False))
            )
            continue
        ratio = page["p50_ms"] / healthz["p50_ms"]
        met = ratio <= factor and not grows
        rows.append((page["title"], db, result, f"{ratio:.1f}×", target, _ok(met)))
    return rows


def ranking_row(db: str, ranking) -> tuple:
    problem = _error(ranking)
    if problem:
        return ("ranking vs bare aggregate", db, problem, "", "", "")
    result = (
        f"{ranking['app_ms']:.0f} ms vs bare GROUP BY {ranking['bare_ms']:.0f} ms "
        f"(top {ranking['top_n']}, {ranking['window_days']} days)"
    )
    met = ranking["ratio"] <= RANKING_FACTOR
    return (
        "ranking of one market",
        db,
        result,
        f"{ranking['ratio']:.2f}×",
        f"≤ {RANKING_FACTOR}×",
        _ok(met),
    )


def assign_rows(db: str, assign) -> list[tuple]:
    problem = _error(assign)
    if problem:
        return [("booth assignment", db, problem, "", "", "")]
    rows = [
        (
            f"booth assignment, {assign['applicants']} applicants: assign()",
            db,
            f"{assign['core_ms']:.1f} ms",
            "",
            "",
            "",
        )
    ]
    db_ms = assign.get("db_ms")
    rows.append(
        (
            "booth assignment: database-backed path",
            db,
            "not available yet" if db_ms is None else f"{db_ms:.0f} ms",
            "",
            "",
            "",
        )
    )
    return rows


def import_row(db: str, imp, scale: float) -> tuple:
    problem = _error(imp)
    if problem:
        return ("order import", db, problem, "", "", "")
    result = (
        f"{imp['rows']:,} rows: {imp['rows_per_s']:,.0f} rows/s "
        f"(check {imp['check_seconds']:.0f} s + write {imp['write_seconds']:.0f} s), "
        f"peak {imp['peak_mib']:.0f} MiB; bare load {imp['bare_rows_per_s']:,.0f} rows/s"
    )
    if imp["rows"] < round(1_000_000 * scale):
        result += " (bounded run)"
    met = imp["ratio"] <= IMPORT_FACTOR and imp["peak_mib"] < IMPORT_MIB
    target = f"≤ {IMPORT_FACTOR}× bare, < {IMPORT_MIB} MB"
    return (
        f"order import, {imp['rows']:,} rows",
        db,
        result,
        f"{imp['ratio']:.1f}×",
        target,
        _ok(met),
    )


def _ceiling(d: dict) -> str:
    """What four bare smtplib connections reach on the same server: the most
    four workers could."""
    if "bare_four" not in d:
        return ""
    return f"; 4 bare smtplib connections {d['bare_four']['per_s']:,.0f}/s"


def _queue_row(db: str, queue: dict, bounded: str) -> tuple:
    """The app's invite() against the bare loop (benchmarks.mailing.bare_queue);
    the 10 s are for 10,000, so a smaller run is held to its share of them."""
    count, seconds = queue["invitations"], queue["seconds"]
    limit = QUEUE_SECONDS * count / QUEUE_COUNT
    result = f"{seconds:.1f} s, {queue['per_s']:,.0f}/s"
    if "bare_seconds" not in queue:  # runs saved before the bare loop
        return (f"build and queue {count:,} invitations{bounded}", db, result, "", "", "")
    ratio = seconds / queue["bare_seconds"]
    result += (
        f"; bare loop {queue['bare_seconds']:.1f} s for {queue['bare_count']:,} "
        f"({queue['bare_count'] / queue['bare_seconds']:,.0f}/s)"
    )
    return (
        f"build and queue {count:,} invitations{bounded}",
        db,
        result,
        f"{ratio:.1f}×",
        f"≤ {limit:g} s and ≤ {QUEUE_VS_BARE}× bare",
        _ok(seconds <= limit and ratio <= QUEUE_VS_BARE),
    )


def mail_rows(db: str, mail) -> list[tuple]:
    problem = _error(mail)
    if problem:
        return [("invitations and delivery", db, problem, "", "", "")]
    rows = [_queue_row(db, mail["queue"], " (bounded run)" if mail.get("light") else "")]
    for key, label in (("delivery", "instant SMTP server"), ("relay", "relay, 20 ms/message")):
        if key not in mail:
            continue
        d = mail[key]
        one, four, bare = d["one"], d["four"], d["bare"]
        name = f"delivery of {one['queued']:,}, {label}"
        rows.append(
            (
                f"{name}: 4 workers vs 1",
                db,
                f"1 worker {one['per_s']:,.0f}/s, 4 workers {four['per_s']:,.0f}/s" + _ceiling(d),
                f"{d['speedup']:.1f}×",
                f"≥ {SPEEDUP}×",
                _ok(d["speedup"] >= SPEEDUP),
            )
        )
        rows.append(
            (
                f"{name}: 1 worker vs bare smtplib",
                db,
                f"bare smtplib {bare['per_s']:,.0f}/s, 1 worker {one['per_s']:,.0f}/s",
                f"{d['one_vs_bare']:.1f}×",
                f"≤ {ONE_VS_BARE}×",
                _ok(d["one_vs_bare"] <= ONE_VS_BARE),
            )
        )
    return rows


def rows_for(result: dict) -> list[tuple]:
    db = NAMES.get(result["kind"], result["kind"])
    rows = page_rows(db, result.get("pages"))
    rows.append(ranking_row(db, result.get("ranking")))
    rows += assign_rows(db, result.get("assign"))
    rows.append(import_row(db, result.get("import"), result["scale"]))
    rows += mail_rows(db, result.get("mail"))
    report = next((p for p in result.get("pages") or [] if p.get("key") == "report"), None)
    if report is None or report.get("path") is None:
        rows.append(("season report over all ten years", db, "not available yet", "", "", ""))
    return rows


def header(results: list[dict]) -> list[str]:
    first = results[0]
    machine = first["machine"]
    versions = [f"Python {machine['python']}", f"SQLite {machine['sqlite']}"]
    versions += [
        f"PostgreSQL {r['machine']['postgresql']}" for r in results if "postgresql" in r["machine"]
    ]
    loads = ", ".join(
        f"{NAMES.get(r['kind'], r['kind'])} {r['load'][0]:.1f} → {r['load'][1]:.1f}"
        for r in results
        if "load" in r
    )
    durations = "; ".join(
        f"{NAMES.get(r['kind'], r['kind'])}: "
        + ", ".join(f"{name} {seconds / 60:.1f}" for name, seconds in r["step_seconds"].items())
        for r in results
        if r.get("step_seconds")
    )
    return [
        f"Run of {first['date']} · {machine['cores']} cores ({machine['cpu']}) · "
        + " · ".join(versions),
        "",
        f"Data: seed {first['seed']}, scale {first['scale']:g} (as of {first['anchor']}); "
        f"pages with wrk, {first['wrk_seconds']} s per page at concurrency 8 against "
        "gunicorn with 4 sync workers on 127.0.0.1."
        + (f" Load average before → after: {loads}." if loads else ""),
        "",
        f"Minutes per step (seeding not included) — {durations}." if durations else "",
        "",
    ]


def table(results: list[dict]) -> str:
    lines = header(results)
    lines += [
        "| what | database | measured | ratio | target | met |",
        "|---|---|---|---|---|---|",
    ]
    for result in results:
        for row in rows_for(result):
            lines.append("| " + " | ".join(str(cell) for cell in row) + " |")
    lines += profile_table(results)
    return "\n".join(lines) + "\n"


PROFILE_SHOWN = 3  # frames per cell; the JSON keeps benchmarks.profiles.TOP


def _frames(frames: list[dict]) -> str:
    return "<br>".join(
        f"{frame['percent']:.0f}% `{frame['function']}` ({frame['where']})"
        for frame in frames[:PROFILE_SHOWN]
    )


def profile_table(results: list[dict]) -> list[str]:
    """The second table, "where the time goes": the top of each page's
    in-process profile (benchmarks.profiles) beside the page's name."""
    lines = [
        "",
        "### Where the time goes",
        "",
        "Each page built in-process (Flask test client; staff pages with "
        "STAFF_PAGE_CACHE off: what the first look after a change costs, where the "
        "table above measures the kept page) on the same data under "
        "pyinstrument for a few seconds: its median time without the profiler, the "
        "functions with the most time of their own, and this project's functions and "
        "templates with the most time under them (leaving out those that cover "
        "nearly the whole request). Percent of the page's profiled time.",
        "",
        "| page | database | in-process | most own time | most time in market/ and templates/ |",
        "|---|---|---|---|---|",
    ]
    for result in results:
        db = NAMES.get(result["kind"], result["kind"])
        profile = result.get("profile")
        problem = _error(profile)
        if problem:
            lines.append(f"| every page | {db} | {problem} |  |  |")
            continue
        for row in profile:
            if row.get("path", "") is None:
                lines.append(f"| {row['title']} | {db} | not available yet |  |  |")
                continue
            measured = f"{row['plain_ms']:.1f} ms ({row['renders']} profiled)"
            lines.append(
                f"| {row['title']} | {db} | {measured} | {_frames(row['own'])} "
                f"| {_frames(row['cumulative'])} |"
            )
    return lines


def write(path: Path, text: str) -> None:
    old = path.read_text() if path.exists() else f"# Benchmark results\n\n{BEGIN}\n{END}\n"
    if BEGIN not in old or END not in old:
        old += f"\n{BEGIN}\n{END}\n"
    head, _, rest = old.partition(BEGIN)
    _, _, tail = rest.partition(END)
    path.write_text(f"{head}{BEGIN}\n{text}{END}{tail}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Print the benchmark table.")
    parser.add_argument("results", nargs="+", type=Path)
    parser.add_argument("--write", type=Path, help="results.md to update")
    args = parser.parse_args(argv)
    results = [json.loads(path.read_text()) for path in args.results if path.exists()]
    results.sort(key=lambda result: list(NAMES).index(result["kind"]))  # SQLite first
    if not results:
        print("no results to report")
        return 1
    text = table(results)
    print(text)
    if args.write:
        write(args.write, text)
        print(f"written to {args.write}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
