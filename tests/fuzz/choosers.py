"""Where the fuzz generators get their choices from.

Every generator (`images`, `options`, `commands`) is written once,
against the small `Chooser` interface: `HypothesisChooser` draws through
Hypothesis (so failures shrink), and `RandomChooser` through a seeded
`random.Random` (so `scripts/fuzz_cli.py` can make thousands of cases
without Hypothesis' engine). `cases` makes a generator a Hypothesis
strategy and `fuzz_settings` holds the settings of every fuzz test.
"""

import random
from collections.abc import Sequence
from typing import Protocol
from typing import TypeVar

T = TypeVar("T")


class Chooser(Protocol):
    """Where the generators get their choices from."""

    def integer(self, low: int, high: int) -> int: ...

    def choice(self, options: Sequence[T]) -> T: ...

    def boolean(self, percent: int = 50) -> bool: ...

    def text(self) -> str: ...


class RandomChooser:
    """Choices from a seeded `random.Random`, for the script."""

    def __init__(self, seed: int):
        self.random = random.Random(seed)

    def integer(self, low: int, high: int) -> int:
        return self.random.randint(low, high)

    def choice(self, options):
        return options[self.random.randrange(len(options))]

    def boolean(self, percent: int = 50) -> bool:
        return self.random.randrange(100) < percent

    def text(self) -> str:
        alphabet = "az09,.-+_ eE\u00e9\u0661\U0001f600"
        length = self.random.randint(0, 12)
        return "".join(self.random.choice(alphabet) for _ in range(length))


class HypothesisChooser:
    """Choices drawn by Hypothesis, which shrinks them on failure."""

    def __init__(self, draw):
        from hypothesis import strategies as st

        self.draw = draw
        self.st = st

    def integer(self, low: int, high: int) -> int:
        return self.draw(self.st.integers(low, high))

    def choice(self, options):
        return self.draw(self.st.sampled_from(list(options)))

    def boolean(self, percent: int = 50) -> bool:
        # Shrinks towards False, the plainer case.
        return self.draw(self.st.integers(0, 99)) >= 100 - percent

    def text(self) -> str:
        # No NUL (argv cannot hold it) and no surrogates (not UTF-8).
        alphabet = self.st.characters(
            exclude_categories=("Cs",), exclude_characters="\x00"
        )
        return self.draw(self.st.text(alphabet, max_size=12))


def fuzz_settings(max_examples: int):
    """The Hypothesis settings of every fuzz test.

    `derandomize=True`: the examples come from a hash of each test, so CI
    and a developer see the same cases, and a failure reproduces by
    running the test again (without an example database, whose replays
    would make runs differ). `max_examples` keeps all of `tests/fuzz`
    under a minute on one backend.
    """
    from hypothesis import HealthCheck
    from hypothesis import settings

    return settings(
        max_examples=max_examples,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
        ],
    )


def cases(make, **kwargs):
    """A Hypothesis strategy of what `make(chooser, **kwargs)` returns."""
    from hypothesis import strategies as st

    return st.composite(lambda draw: make(HypothesisChooser(draw), **kwargs))()
