"""The last line of `make test`: what ran and what was skipped.

scripts/test.sh says which databases it ran and which it could not (and
why); the browser journeys are counted from the JUnit XML of the SQLite
pass, so a journey pytest skipped (no Chromium, no nginx) is named as
skipped rather than assumed to have run. With --ci a skipped journey, or
none at all, fails the run: CI must not go green having tested less.

    python scripts/summary.py --junit sqlite.xml --ran SQLite \
        --skipped "PostgreSQL (no server binaries)" \
        --browser "Chromium 156.0" --proxy nginx/1.22.1 [--ci]
"""

import argparse
import re
import sys
import xml.etree.ElementTree as ET

BROWSER = "tests.browser"


def count_journeys(junit_path: str) -> tuple[int, dict[str, int | None]]:
    """The journeys that passed, and how many were skipped for each reason
    (None: all of them, skipped before they were collected)."""
    passed, skipped = 0, {}
    for case in ET.parse(junit_path).iter("testcase"):
        name = ".".join(part for part in (case.get("classname"), case.get("name")) if part)
        if name != BROWSER and not name.startswith(BROWSER + "."):
            continue
        skip = case.find("skipped")
        if skip is None:
            if case.find("failure") is None and case.find("error") is None:
                passed += 1
            continue
        reason = skip.get("message", "")
        if reason == "collection skipped":
            # A skip in conftest.py skips them all; pytest writes
            # ('…/conftest.py', 34, 'Skipped: why') as the text.
            found = re.search(r"Skipped: (.*)['\"]\)\s*$", skip.text or "")
            skipped[found.group(1) if found else reason] = None
            continue
        skipped[reason] = skipped.get(reason, 0) + 1
    return passed, skipped


def journeys(count: int) -> str:
    return f"{count} browser journey{'' if count == 1 else 's'}"


def summary(
    ran: list[str],
    skipped: list[str],
    passed: int,
    journey_skips: dict[str, int | None],
    browser: str,
    proxy: str,
) -> str:
    ran, skipped = list(ran), list(skipped)
    if passed:
        where = f"over HTTPS through {proxy}" if proxy else "over plain http"
        ran.append(f"{journeys(passed)} in {browser or 'Chromium'} {where}")
    elif not journey_skips:
        ran.append("no browser journey (none selected)")
    for reason, count in journey_skips.items():
        what = "the browser journeys" if count is None else journeys(count)
        skipped.append(f"{what} ({reason})")
    return f"Ran: {', '.join(ran)}. Skipped: {'; '.join(skipped) or 'nothing'}."


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--junit", required=True)
    parser.add_argument("--ran", action="append", default=[])
    parser.add_argument("--skipped", action="append", default=[])
    parser.add_argument("--browser", default="")
    parser.add_argument("--proxy", default="")
    parser.add_argument("--ci", action="store_true")
    options = parser.parse_args(argv)
    passed, journey_skips = count_journeys(options.junit)
    print(
        summary(options.ran, options.skipped, passed, journey_skips, options.browser, options.proxy)
    )
    if options.ci and (journey_skips or not passed or options.skipped):
        print("CI=true, but part of the suite did not run: failing the run.", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
