"""Option values for the fuzzed command lines, good and bad.

`good_value` is a value an option accepts that keeps a real run tiny;
`bad_value` a bad or extreme one: huge integers, negatives, NaN, inf,
empty text and non-numbers. `option_args` picks a few options and
values, `small_layers` and `pixel_limit` the options that keep a run
small or test `--max-image-pixels`.
"""

from collections.abc import Sequence

from tests.fuzz.choosers import Chooser

HUGE_INTEGERS = ("99999999999999999999", str(2**63), str(2**31), "1" + "0" * 40)
NASTY = (
    "", " ", "-1", "-0", "0", "nan", "NaN", "inf", "-inf", "1e400",
    "-1e400", "1e-400", "abc", "1.5", "0x10", "1_0", "+3", "--", "-", ",",
    ",,", "1,,2", "1,nan", "conv9_9", "\u0661\u0662", "9" * 5000,
    "\u00e9t\u00e9",
)  # fmt: skip
"""Text that is a bad value for most options."""
PAPER_LAYERS = (
    "conv1_1", "conv1_2", "relu1_2", "block1_conv1", "block2_conv1",
    "conv2_2", "relu2_1",
)  # fmt: skip
"""Layers that work on images of 2 pixels or more, in the three spellings."""


def _layers(c: Chooser) -> str:
    count = c.integer(1, 3)
    return ",".join(c.choice(PAPER_LAYERS) for _ in range(count))


def _floats(c: Chooser, count: int) -> str:
    return ",".join(str(c.choice((0.5, 1, 2, 0))) for _ in range(count))


# Per option: a value that should work (and keeps a real run tiny), and
# bad or extreme ones. Sizes between 65 and 2**31 are left out: a run
# would resize an image to them, which needs gigabytes.
def good_value(c: Chooser, flag: str, styles: int = 1) -> str:
    """A value of `flag` that a tiny run accepts."""
    values = {
        "--size": lambda: str(c.integer(8, 40)),
        "--style-size": lambda: str(c.integer(8, 40)),
        "--iterations": lambda: str(c.integer(0, 3)),
        "--scales": lambda: str(c.integer(1, 2)),
        "--refine-iterations": lambda: str(c.integer(0, 3)),
        "--start-size": lambda: str(c.integer(8, 40)),
        "--style-scale": lambda: c.choice(("0.5", "1", "1.5")),
        "--style-loss": lambda: c.choice(("gram", "w2")),
        "--padding": lambda: c.choice(("zero", "reflect", "replicate")),
        "--tv-reduction": lambda: c.choice(("mean", "sum")),
        "--style-weight": lambda: c.choice(("0", "1", "1e3", "3e6")),
        "--content-weight": lambda: c.choice(("0", "1", "1e-3", "100")),
        "--tv-weight": lambda: c.choice(("0", "1e-3", "1")),
        "--learning-rate": lambda: c.choice(("0.1", "1", "10")),
        "--lr": lambda: c.choice(("0.5", "5")),
        "--style-layers": lambda: _layers(c),
        "--content-layers": lambda: _layers(c),
        "--init": lambda: c.choice(("content", "noise", "style")),
        "--optimizer": lambda: c.choice(("adam", "lbfgs")),
        "--seed": lambda: str(c.choice((0, 1, 42, 2**32 - 1))),
        "--average-decay": lambda: c.choice(("0", "0.5", "0.9")),
        "--lbfgs-history": lambda: str(c.integer(1, 20)),
        "--line-search": lambda: c.choice(("none", "armijo")),
        "--preserve-color": lambda: c.choice(
            ("none", "luminance", "histogram")
        ),
        "--pooling": lambda: c.choice(("max", "avg")),
        "--tv-form": lambda: c.choice(("squared", "absolute")),
        "--content-loss-form": lambda: c.choice(("sum", "mean")),
        "--style-normalization": lambda: c.choice(("none", "target")),
        "--precision": lambda: "fp32",
        "--preset": lambda: c.choice(("gatys", "tf_tutorial", "gatys2016_sum")),
        "--save-every": lambda: str(c.integer(1, 3)),
        "--style-blend": lambda: _floats(c, styles),
        "--cell-size": lambda: str(c.integer(8, 24)),
    }
    return values[flag]()


def bad_value(c: Chooser, flag: str) -> str:
    """A bad or extreme value of `flag` (some are still valid)."""
    specific = {
        "--size": ("0", "-5", "1", "2", "3", "4096", "100000"),
        "--iterations": ("-1", str(2**40)),
        "--scales": ("0", "3000", "-2"),
        "--refine-iterations": ("-1", str(2**40)),
        "--start-size": ("0", "-5", "1", str(10**6)),
        "--style-scale": ("0", "-1", "1e30", "nan"),
        "--learning-rate": ("0", "-1", "1e30"),
        "--style-weight": ("1e38", "-1", "1e300"),
        "--average-decay": ("1", "-0.1", "0.999999"),
        "--style-layers": ("", "conv1_1,,conv1_1", "block6_conv1", "CONV1_1"),
        "--content-layers": ("", ",", "relu9_1"),
        "--init": ("", "missing.png", ".", "noise "),
        "--seed": ("-1", str(-(2**70))),
        "--style-blend": ("0", "0,0", "-1", "1,2,3,4,5,6,7,8"),
        "--style-layer-weights": ("1", "1,2,3,4,5,6,7,8,9", "-1"),
        "--content-layer-weights": ("1", "0", "1,1"),
        "--lbfgs-history": ("0", str(10**6)),
        "--save-every": ("0", "-3"),
        "--cell-size": ("7", "0", str(10**5)),
        "--preset": ("gatys ", "GATYS", "seed"),
    }
    pool = specific.get(flag, ())
    source = c.integer(0, 3)
    if source == 0 and pool:
        return c.choice(pool)
    if source == 1:
        return c.choice(HUGE_INTEGERS)
    if source == 2:
        return c.text()
    return c.choice(NASTY)


TRANSFER_FLAGS = (
    "--size", "--style-size", "--iterations", "--scales", "--style-weight",
    "--content-weight", "--tv-weight", "--learning-rate", "--lr",
    "--style-layers", "--content-layers", "--init", "--optimizer", "--seed",
    "--average-decay", "--lbfgs-history", "--line-search",
    "--preserve-color", "--pooling", "--tv-form", "--content-loss-form",
    "--style-normalization", "--precision", "--preset", "--save-every",
    "--style-blend", "--style-layer-weights", "--content-layer-weights",
    "--refine-iterations", "--start-size", "--style-scale",
    "--style-loss", "--padding", "--tv-reduction",
)  # fmt: skip
SIZE_SAFE = ("--size", "--style-size", "--cell-size")
"""Options whose huge values make an image that large: kept off the
in-process tests' huge values below 2**31 (see `bad_value`)."""

TRAIN_FLAGS = (
    "--size", "--style-size", "--batch-size", "--steps", "--learning-rate",
    "--filters", "--residual-blocks", "--style-weight", "--content-weight",
    "--tv-weight", "--seed", "--epochs", "--checkpoint-every",
    "--sample-every", "--workers",
)  # fmt: skip


def in_mid_band(value: str) -> bool:
    """Whether `value` is an integer above 64 and below 2**31."""
    try:
        number = int(value)
    except ValueError:
        return False
    return 64 < number < 2**31


def option_args(
    c: Chooser,
    flags: Sequence[str],
    count: int,
    bad_percent: int,
    styles: int,
    in_process: bool,
) -> list[str]:
    """`count` of `flags`, each with a bad value `bad_percent`% of the time."""
    args: list[str] = []
    for _ in range(count):
        flag = c.choice(flags)
        # Layer weights must match the layers' count: always fuzzed.
        if flag.endswith("layer-weights") or c.boolean(bad_percent):
            value = bad_value(c, flag)
            if in_process and flag in SIZE_SAFE and in_mid_band(value):
                value = c.choice(HUGE_INTEGERS)
        else:
            value = good_value(c, flag, styles)
        args += [flag, value]
    return args


def small_layers(c: Chooser) -> list[str]:
    """Layers that work at any image size, most of the time."""
    if c.boolean(80):
        style, content = _layers(c), c.choice(("conv1_2", "conv2_1"))
        return ["--style-layers", style, "--content-layers", content]
    return []


def pixel_limit(c: Chooser, in_process: bool) -> list[str]:
    """`--max-image-pixels N`, before the command.

    In the test process it stays at 10**8 pixels or less: a header that
    claims more would be decoded into gigabytes.
    """
    values = ["100", "1000000", "100000000", "0", "-1", "abc", "", "1.5"]
    if not in_process:
        values += ["none", "NONE", "99999999999999999999", "1000000000"]
    return ["--max-image-pixels", c.choice(values)]
