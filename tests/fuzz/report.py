"""How the cases of `scripts/fuzz_cli.py` ended, and its report.

An `Outcome` is one case's end; `print_table` counts them by category
(cases tried, worked, clean errors, violations) and `print_violations`
groups the violations by `signature`, then lists each with the command
that reproduces it.
"""

import collections
import dataclasses
import re


@dataclasses.dataclass
class Outcome:
    """How one case ended."""

    category: str
    index: int
    command: str
    folder: str
    exit_code: int | None
    output: str
    problems: list[str]
    seconds: float

    @property
    def verdict(self) -> str:
        if self.problems:
            return "violation"
        if self.exit_code == 0 or self.category == "interrupt":
            return "worked"  # an interrupt that stopped cleanly works
        return "clean error"


def signature(outcome: Outcome) -> str:
    """What a violation is about, with names and numbers blanked out."""
    lines = [line for line in outcome.output.splitlines() if line.strip()]
    last = lines[-1] if lines else "(no output)"
    first = outcome.problems[0]
    text = f"{outcome.category}: {first} | {last}"
    text = re.sub(r"'[^']*'", "'…'", text)
    text = re.sub(r"\d+(\.\d+)?", "N", text)
    return text[:200]


def print_table(outcomes, seconds) -> None:
    rows = collections.defaultdict(collections.Counter)
    times = collections.defaultdict(float)
    for outcome in outcomes:
        rows[outcome.category][outcome.verdict] += 1
        times[outcome.category] += outcome.seconds
    header = (
        f"{'category':<18} {'tried':>6} {'worked':>7} {'clean errors':>13} "
        f"{'violations':>11} {'s/case':>7}"
    )
    print(header)
    print("-" * len(header))
    total = collections.Counter()
    for category in sorted(rows):
        counts = rows[category]
        tried = sum(counts.values())
        total.update(counts)
        print(
            f"{category:<18} {tried:>6} {counts['worked']:>7} "
            f"{counts['clean error']:>13} {counts['violation']:>11} "
            f"{times[category] / tried:>7.1f}"
        )
    print("-" * len(header))
    print(
        f"{'total':<18} {sum(total.values()):>6} {total['worked']:>7} "
        f"{total['clean error']:>13} {total['violation']:>11}"
    )
    print(f"wall time {seconds:.0f} s")


def print_violations(outcomes) -> None:
    bad = [o for o in outcomes if o.problems]
    if not bad:
        return
    groups = collections.defaultdict(list)
    for outcome in bad:
        groups[signature(outcome)].append(outcome)
    print(f"\n{len(bad)} violations in {len(groups)} groups:")
    for key, members in sorted(groups.items(), key=lambda kv: -len(kv[1])):
        print(f"  {len(members):>4}  {key}")
    print()
    for outcome in bad:
        print(f"=== violation {outcome.index} ({outcome.category})")
        print(f"    {outcome.command}")
        print(f"    exit code: {outcome.exit_code}, {outcome.seconds:.1f} s")
        for problem in outcome.problems:
            print(f"    - {problem}")
        lines = outcome.output.rstrip().splitlines()[-6:]
        for line in lines:
            print(f"    | {line[:300]}")
