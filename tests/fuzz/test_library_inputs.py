"""Property-based tests of the library's public calls on odd arguments.

The contract: a call returns a result of the documented kind, or raises
`ValueError`, `TypeError`, `OSError` or a `KerasNSTError` with a message.
Never an `IndexError`, `KeyError`, `AttributeError`, `ZeroDivisionError`,
`OverflowError`, `MemoryError`, or an exception of Pillow's or NumPy's
own, and never a file left behind by a call that failed.

`build_model` runs with `fake_optimisation` (no VGG19); `transfer` runs
for real on random weights, a few examples of 32 pixels and 2 iterations.
"""

import contextlib
import dataclasses
import os
import tempfile
import warnings

import numpy as np
from hypothesis import event
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

import keras_nst
from keras_nst.errors import KerasNSTError
from keras_nst.image_io import load_image
from keras_nst.image_output import save_image
from tests.fuzz.choosers import cases
from tests.fuzz.choosers import fuzz_settings
from tests.fuzz.contract import snapshot
from tests.fuzz.contract import valid_image
from tests.fuzz.fakes import fake_optimisation
from tests.fuzz.images import image_spec
from tests.fuzz.images import write_input

FUZZ = fuzz_settings(max_examples=60)
ALLOWED = (ValueError, TypeError, OSError, KerasNSTError)
"""What the library may raise for a bad argument or file."""


@contextlib.contextmanager
def contract():
    """Fails the test if the block raises outside the contract."""
    with warnings.catch_warnings():
        # Warnings (e.g. a 0..1 image) are allowed; pytest would make the
        # package's errors.
        warnings.simplefilter("ignore")
        try:
            yield
            event("returned")
        except ALLOWED as error:
            event(f"raised {type(error).__name__}")
            module = type(error).__module__
            assert not module.startswith(("PIL", "numpy")), (
                f"{module}.{type(error).__name__} escaped: {error}"
            )
            assert str(error).strip(), f"{type(error).__name__} without text"


# Arrays: shapes right and wrong, dtypes, NaN and inf, empty.
SHAPES = (
    (8, 8, 3), (1, 8, 8, 3), (17, 5, 3), (1, 1, 3), (1, 40, 3), (40, 1, 3),
    (8, 8), (8, 8, 1), (8, 8, 4), (0, 8, 3), (8, 0, 3), (2, 8, 8, 3),
    (8, 8, 3, 1), (3,), (), (1, 1, 1, 1, 3),
)  # fmt: skip
DTYPES = (
    "float32", "float64", "float16", "uint8", "uint16", "int64", "bool",
    "complex64", "object", "U3",
)  # fmt: skip
SPECIALS = (0.0, 255.0, -1.0, 1e30, -1e30, np.nan, np.inf, -np.inf, 0.5)


@st.composite
def arrays(draw):
    shape = draw(st.sampled_from(SHAPES))
    dtype = draw(st.sampled_from(DTYPES))
    seed = draw(st.integers(0, 2**16))
    rng = np.random.default_rng(seed)
    values = rng.uniform(0, 255, shape)
    if draw(st.booleans()) and values.size:
        special = draw(st.sampled_from(SPECIALS))
        values.flat[int(rng.integers(0, values.size))] = special
    if dtype == "U3":
        return np.full(shape, "abc")
    with np.errstate(invalid="ignore", over="ignore"):
        return values.astype(dtype)


@st.composite
def rgb_arrays(draw):
    """Images of the right shape: `(H, W, 3)`, 1 to 40 pixels a side."""
    shape = (draw(st.integers(1, 40)), draw(st.integers(1, 40)), 3)
    dtype = draw(st.sampled_from(("float32", "float64", "uint8")))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    return rng.uniform(0, 255, shape).astype(dtype)


OTHER_VALUES = (
    None, 0, 1, -1, 2.5, True, "", "abc", b"bytes", [1, 2, 3], [[1, 2, 3]],
    {"a": 1}, (), object(), float("nan"), 10**20,
)  # fmt: skip
images = st.one_of(rgb_arrays(), arrays(), st.sampled_from(OTHER_VALUES))
"""Anything given as an image: a good one a third of the time."""


@contextlib.contextmanager
def folder_with(spec):
    """A fresh folder holding `spec`'s file as `input<ext>`."""
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "input" + spec.extension)
        write_input(spec, path)
        yield folder, path


def assert_image(array, size=None):
    assert isinstance(array, np.ndarray) and array.dtype == np.float32
    assert array.ndim == 3 and array.shape[-1] == 3, array.shape
    assert np.isfinite(array).all() and array.min() >= 0, "bad pixels"
    assert array.max() <= 255
    if size is not None:
        assert max(array.shape[:2]) == size, (array.shape, size)


SIZES = (None, 1, 2, 8, 31, 64, 0, -1, 2**31, 2**63, 10**20, 8.0, 8.5)
"""`size` values for `load_image`. Between 65 and 2**31 an image is
resized to gigabytes, so those are left to the memory checks of a run."""


@FUZZ
@given(
    spec=cases(image_spec),
    size=st.sampled_from(SIZES) | st.sampled_from(OTHER_VALUES),
)
def test_load_image(spec, size):
    with folder_with(spec) as (folder, path):
        before = snapshot(folder)
        with contract():
            image = load_image(path, size)
            expected = size if isinstance(size, int) and size > 0 else None
            assert_image(image, expected)
            if spec.usable and size is None:
                height, width = spec.height, spec.width
                if spec.orientation in (5, 6, 7, 8):
                    height, width = width, height
                assert image.shape[:2] == (height, width), spec.describe()
        assert snapshot(folder) == before, "reading changed the folder"


@FUZZ
@given(
    image=images,
    name=st.sampled_from(
        ("out.png", "out.jpg", "OUT.JPEG", "out.gif", "out", "no/out.png")
    ),
    metadata=st.sampled_from(
        (None, {}, {"a": 1}, {"nan": float("nan")}, {"o": object()}, "text")
    ),
)
def test_save_image(image, name, metadata):
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, name)
        with contract():
            save_image(path, image, metadata=metadata)
            # It returned: the file is a complete image of the same size.
            with open(path, "rb") as file:
                assert valid_image(file.read()) is None
            shape = np.shape(image)
            assert load_image(path).shape[:2] == shape[-3:-1]
            return
        assert os.listdir(folder) == [], "a failed save left files"


# Values for `Config` fields: some right, most of the wrong kind.
FIELD_VALUES = (
    None, True, 0, 1, 2, -1, 2.5, 1e-3, float("nan"), float("inf"), 10**20,
    "", "abc", "adam", "conv1_1", "conv1_1,conv2_1", ("conv1_1",),
    ["block1_conv1"], (1.0,), (), [1, 2], {"a": 1}, b"x", np.float32(3),
    np.int64(4), np.array([1.0]), object(),
)  # fmt: skip
FIELDS = tuple(field.name for field in dataclasses.fields(keras_nst.Config))
"""Every `Config` field, and a name that is none."""


DEFAULTS = dataclasses.asdict(keras_nst.Config())


@st.composite
def overrides(draw):
    """`Config` fields to change: to their defaults or to odd values."""
    names = st.sampled_from((*FIELDS, "not_a_field"))
    chosen = {}
    for name in draw(st.lists(names, max_size=4, unique=True)):
        odd = st.sampled_from(FIELD_VALUES)
        chosen[name] = draw(odd | st.just(DEFAULTS.get(name)))
    # Keep a run small: `size` is the image size and `iterations` are
    # fake here, but a large valid size would be resized to.
    for key in ("size", "style_size"):
        value = chosen.get(key)
        if isinstance(value, int | np.integer) and 64 < value < 2**31:
            chosen[key] = 32
    return chosen


@settings(FUZZ, max_examples=150)
@given(
    config=st.sampled_from((None, "gatys", "tf_tutorial", "nope", 5, "")),
    changes=overrides(),
)
def test_resolve_config(config, changes):
    with contract():
        resolved = keras_nst.resolve_config(config, **changes)
        assert isinstance(resolved, keras_nst.Config)


def small_layers():
    return {"style_layers": ("conv1_1",), "content_layers": ("conv1_2",)}


@FUZZ
@given(
    content=images,
    style=images | st.lists(arrays(), max_size=2),
    config=st.sampled_from((None, "gatys", "nope", 3)),
    changes=overrides(),
)
def test_build_model(content, style, config, changes):
    arguments = {"weights": None, "size": 16, **small_layers(), **changes}
    with fake_optimisation(), contract():
        model = keras_nst.build_model(content, style, config, **arguments)
        assert_image(model.get_image())


@FUZZ
@given(spec=cases(image_spec), style=images)
def test_build_model_from_files(spec, style):
    with folder_with(spec) as (_, path), fake_optimisation(), contract():
        keras_nst.build_model(
            path, style, weights=None, size=16, **small_layers()
        )


@settings(FUZZ, max_examples=6)
@given(
    content=rgb_arrays(),
    style=rgb_arrays() | arrays(),
    changes=st.fixed_dictionaries(
        {},
        optional={
            "optimizer": st.sampled_from(("adam", "lbfgs")),
            "init": st.sampled_from(("content", "noise", "style")),
            "scales": st.integers(1, 2),
            "style_weight": st.sampled_from((0.0, 1e3, 1e38)),
            "learning_rate": st.sampled_from((1.0, 1e30)),
            "preserve_color": st.sampled_from(("luminance", "histogram")),
        },
    ),
)
def test_transfer_on_random_weights(content, style, changes):
    """The real optimisation, VGG19 on random weights: 32 px, 2 steps."""
    with contract():
        image = keras_nst.transfer(
            content, style, weights=None, size=32, iterations=2,
            refine_iterations=2, verbose=0, **small_layers(),
            **changes,
        )  # fmt: skip
        assert_image(image)
