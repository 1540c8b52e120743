"""Before Keras loads: the backend it will pick, and the speed switches.

Some of a backend's fastest CPU paths sit behind a documented switch that
the framework reads once, when it starts (`SPEED_SWITCHES`). The package
turns a switch on only where the user has not set it (the environment
variable is unset or, for `XLA_FLAGS`, does not name the flag) and only
before Keras and the backend are imported, when the setting still takes
effect. `import keras_nst` does it for the backend Keras will pick; the
command line again for `--backend`. Nothing here imports Keras.
"""

import contextlib
import dataclasses
import importlib.metadata
import json
import os
import sys
from collections.abc import MutableMapping

__all__ = [
    "SPEED_SWITCHES",
    "Switch",
    "configured_backend",
    "set_speed_switches",
    "speed_switches_set",
]


@dataclasses.dataclass(frozen=True)
class Switch:
    """One backend setting, as an environment variable.

    Attributes:
        variable: the environment variable the backend reads.
        value: the value to set. Where `flag` is true, a `--name=value`
            flag added to the variable's space-separated list.
        flag: whether `variable` holds a list of flags (`XLA_FLAGS`).
        requires: `(distribution, (major, minor))`: only from that
            version of the package on (older ones abort on an unknown
            flag); `None` for any version.
        reason: what it does, for `--verbose` and the docs.
    """

    variable: str
    value: str
    flag: bool = False
    requires: tuple[str, tuple[int, int]] | None = None
    reason: str = ""

    @property
    def name(self) -> str:
        """What the user sets to keep it off: the variable or the flag."""
        return self.value.split("=")[0] if self.flag else self.variable

    def __str__(self) -> str:
        return self.value if self.flag else f"{self.variable}={self.value}"


_YNN_DOTS = "--xla_cpu_experimental_ynn_fusion_type=dot"
_YNN_REASON = "XLA runs matrix products on the CPU with YNNPACK's kernels"


def _cache_dir() -> str:
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
    return os.path.join(cache, "keras-nst", "jax")


_JAX_CACHE_REASON = (
    "JAX keeps compiled programs on disk: later runs skip compiling "
    "VGG19 and the step"
)

SPEED_SWITCHES: dict[str, tuple[Switch, ...]] = {
    # For the XLA-compiled step on a CPU without AVX-512
    # (`keras_nst.backend.step_jit_compile`); TensorFlow 2.21's XLA is the
    # first measured with the flag.
    "tensorflow": (
        Switch(
            "XLA_FLAGS",
            _YNN_DOTS,
            flag=True,
            requires=("tensorflow", (2, 21)),
            reason=_YNN_REASON,
        ),
    ),
    "jax": (
        Switch(
            "XLA_FLAGS",
            _YNN_DOTS,
            flag=True,
            requires=("jaxlib", (0, 10)),
            reason=_YNN_REASON,
        ),
        Switch(
            "JAX_COMPILATION_CACHE_DIR",
            _cache_dir(),
            requires=("jax", (0, 5)),
            reason=_JAX_CACHE_REASON,
        ),
        # Also the many small programs VGG19's set-up compiles, each well
        # under JAX's default threshold of a second.
        Switch(
            "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS",
            "0",
            requires=("jax", (0, 5)),
            reason=_JAX_CACHE_REASON,
        ),
    ),
    "torch": (),
}
"""Each backend's switches, set by `set_speed_switches`."""

# What this process set, for `--verbose`: switch, and the variable's value
# before, so that a switch of another backend can be taken back.
_SET: dict[Switch, str | None] = {}


def configured_backend() -> tuple[str, str]:
    """The backend Keras will pick, and where that choice comes from.

    `KERAS_BACKEND`, else the `backend` of `$KERAS_HOME/keras.json`
    (`~/.keras`), else TensorFlow, Keras' default.
    """
    if os.environ.get("KERAS_BACKEND"):
        return os.environ["KERAS_BACKEND"], "KERAS_BACKEND"
    home = os.environ.get("KERAS_HOME") or os.path.expanduser("~/.keras")
    path = os.path.join(home, "keras.json")
    with contextlib.suppress(OSError, ValueError, AttributeError):
        with open(path) as file:
            backend = json.load(file).get("backend")
        if backend:
            return backend, path
    return "tensorflow", "the default"


def _version(distribution: str) -> tuple[int, ...] | None:
    try:
        version = importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None
    parts = []
    for part in version.split(".")[:2]:
        digits = "".join(c for c in part if c.isdigit())
        parts.append(int(digits or 0))
    return tuple(parts)


def _applies(switch: Switch) -> bool:
    if switch.requires is None:
        return True
    version = _version(switch.requires[0])
    return version is not None and version >= switch.requires[1]


def _user_set(switch: Switch, environ: MutableMapping[str, str]) -> bool:
    if not switch.flag:
        return switch.variable in environ
    names = {f.split("=")[0] for f in environ.get(switch.variable, "").split()}
    return switch.name in names


def _turn_on(switch: Switch, environ: MutableMapping[str, str]) -> None:
    if switch.flag:
        flags = environ.get(switch.variable, "").split()
        environ[switch.variable] = " ".join([*flags, switch.value])
    else:
        environ[switch.variable] = switch.value


def _take_back(switch: Switch, before: str | None, environ) -> None:
    if before is None:
        environ.pop(switch.variable, None)
    elif switch.flag:
        flags = environ.get(switch.variable, "").split()
        environ[switch.variable] = " ".join(
            f for f in flags if f != switch.value
        )
    else:
        environ[switch.variable] = before


def too_late(backend: str) -> bool:
    """Whether Keras or the backend is imported: a switch set now is moot."""
    return "keras" in sys.modules or backend in sys.modules


def set_speed_switches(
    backend: str, environ: MutableMapping[str, str] | None = None
) -> list[Switch]:
    """Turns on `backend`'s speed switches that the user has not set.

    Does nothing once Keras or the backend is imported (they read the
    switches when they start), or for a backend that is not one of
    `SPEED_SWITCHES`. Switches this process set earlier for another
    backend are taken back.

    Args:
        backend: `"tensorflow"`, `"jax"` or `"torch"`.
        environ: the environment to change; `None` for `os.environ`, the
            only one whose changes `speed_switches_set` records.

    Returns:
        The switches turned on by this call.
    """
    record = environ is None
    environ = os.environ if environ is None else environ
    if backend not in SPEED_SWITCHES or too_late(backend):
        return []
    if record:
        for switch, before in list(_SET.items()):
            if switch not in SPEED_SWITCHES[backend]:
                _take_back(switch, before, environ)
                del _SET[switch]
    turned_on = []
    for switch in SPEED_SWITCHES[backend]:
        if _user_set(switch, environ) or not _applies(switch):
            continue
        before = environ.get(switch.variable)
        _turn_on(switch, environ)
        turned_on.append(switch)
        if record:
            _SET[switch] = before
    return turned_on


def speed_switches_set() -> list[Switch]:
    """The switches `set_speed_switches` turned on in this process."""
    return list(_SET)
