"""The speed switches: set before Keras is imported, never over the user's."""

import json
import os
import subprocess
import sys
import textwrap

import keras
import pytest

from keras_nst import startup
from keras_nst.startup import SPEED_SWITCHES
from keras_nst.startup import Switch
from keras_nst.startup import set_speed_switches

FLAG = Switch(
    "XLA_FLAGS", "--xla_a=1", flag=True, requires=(("jaxlib", (0, 10)),)
)
VARIABLE = Switch("SOME_OPTS", "1")


@pytest.fixture
def before_keras(monkeypatch):
    """As if Keras were not imported yet, with two made-up switches."""
    monkeypatch.setattr(startup, "too_late", lambda backend: False)
    monkeypatch.setattr(startup, "_version", lambda name: (0, 10))
    monkeypatch.setitem(SPEED_SWITCHES, "jax", (FLAG, VARIABLE))
    monkeypatch.setattr(startup, "_SET", {})


def test_switches_are_added_to_what_the_user_set(before_keras):
    environ = {"XLA_FLAGS": "--xla_force_host_platform_device_count=2"}
    assert set_speed_switches("jax", environ) == [FLAG, VARIABLE]
    assert environ == {
        "XLA_FLAGS": "--xla_force_host_platform_device_count=2 --xla_a=1",
        "SOME_OPTS": "1",
    }
    assert set_speed_switches("jax", environ) == []  # once only
    assert environ["XLA_FLAGS"].split().count("--xla_a=1") == 1


def test_a_switch_the_user_set_is_kept_as_given(before_keras):
    environ = {"XLA_FLAGS": "--xla_a=0", "SOME_OPTS": "0"}
    assert set_speed_switches("jax", environ) == []
    assert environ == {"XLA_FLAGS": "--xla_a=0", "SOME_OPTS": "0"}


@pytest.mark.parametrize("version", [(0, 4), None])
def test_an_older_or_missing_package_is_left_alone(
    before_keras, monkeypatch, version
):
    monkeypatch.setattr(startup, "_version", lambda name: version)
    environ = {}
    assert set_speed_switches("jax", environ) == [VARIABLE]
    assert environ == {"SOME_OPTS": "1"}


@pytest.mark.parametrize(
    "versions, turned_on",
    [({"jax": (0, 5), "filelock": (3, 12)}, True),
     ({"jax": (0, 5)}, False),
     ({"jax": (0, 4), "filelock": (3, 12)}, False)],
)  # fmt: skip
def test_a_switch_needs_every_package_it_requires(
    before_keras, monkeypatch, versions, turned_on
):
    both = Switch(
        "BOTH_OPTS", "1", requires=(("jax", (0, 5)), ("filelock", (3, 0)))
    )
    monkeypatch.setitem(SPEED_SWITCHES, "jax", (both,))
    monkeypatch.setattr(startup, "_version", versions.get)
    environ = {}
    assert set_speed_switches("jax", environ) == ([both] if turned_on else [])
    assert environ == ({"BOTH_OPTS": "1"} if turned_on else {})


def test_nothing_is_set_once_keras_is_imported():
    assert "keras" in sys.modules
    environ = {}
    assert set_speed_switches("jax", environ) == []
    assert environ == {}


def test_another_backend_s_switches_are_taken_back(before_keras, monkeypatch):
    monkeypatch.delenv("XLA_FLAGS", raising=False)
    monkeypatch.setenv("SOME_OPTS", "user")
    monkeypatch.setitem(SPEED_SWITCHES, "torch", ())
    assert set_speed_switches("jax") == [FLAG]
    assert startup.speed_switches_set() == [FLAG]
    set_speed_switches("torch")
    assert "XLA_FLAGS" not in os.environ
    assert os.environ["SOME_OPTS"] == "user"
    assert startup.speed_switches_set() == []


# Records the switches' variables at the moment each framework is first
# imported, then runs the scenario.
_WATCH = """
import importlib.abc, json, os, sys
seen = {{}}
class Watch(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name in ("keras", "tensorflow", "jax", "torch") and name not in seen:
            seen[name] = {{v: os.environ.get(v) for v in {variables!r}}}
sys.meta_path.insert(0, Watch())
{scenario}
print(json.dumps(seen))
"""

_SCENARIOS = {
    # A library user: the package, then a name that needs Keras.
    "library": "import keras_nst\nkeras_nst.build_model",
    # The command line: --backend, then Keras (keras_nst.cli.runtime).
    "command line": (
        "from keras_nst.cli.runtime import set_backend, import_keras\n"
        "set_backend({backend!r})\nimport_keras(False)"
    ),
}


def _watch(scenario: str, environ: dict) -> dict:
    backend = keras.backend.backend()
    variables = sorted({s.variable for s in SPEED_SWITCHES[backend]})
    code = _WATCH.format(
        variables=variables,
        scenario=_SCENARIOS[scenario].format(backend=backend),
    )
    run = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        env=environ,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(run.stdout.splitlines()[-1])


def _clean_environ() -> dict:
    environ = dict(os.environ, KERAS_BACKEND=keras.backend.backend())
    for switches in SPEED_SWITCHES.values():
        for switch in switches:
            environ.pop(switch.variable, None)
    return environ


@pytest.mark.parametrize("scenario", sorted(_SCENARIOS))
def test_switches_are_set_before_keras_is_imported(scenario):
    backend = keras.backend.backend()
    seen = _watch(scenario, _clean_environ())
    assert "keras" in seen
    for switch in SPEED_SWITCHES[backend]:
        if not startup._applies(switch):
            continue
        for module in ("keras", backend):
            value = seen.get(module, seen["keras"])[switch.variable]
            if switch.flag:
                assert switch.value in (value or "").split(), module
            else:
                assert value == switch.value, module


@pytest.mark.parametrize("scenario", sorted(_SCENARIOS))
def test_switches_the_user_set_are_kept(scenario):
    backend = keras.backend.backend()
    environ = _clean_environ()
    expected = {}
    for switch in SPEED_SWITCHES[backend]:
        given = f"{switch.name}=0" if switch.flag else "0"
        environ[switch.variable] = expected[switch.variable] = given
    seen = _watch(scenario, environ)
    assert seen["keras"] == expected


def _program(folder, key, atime):
    (folder / f"{key}-cache").write_bytes(b"program")
    if atime:
        (folder / f"{key}-atime").write_bytes((1).to_bytes(8, "little"))


_LIMIT = next(
    s
    for s in SPEED_SWITCHES["jax"]
    if s.variable == "JAX_COMPILATION_CACHE_MAX_SIZE"
)


@pytest.mark.parametrize(
    "programs, limited",
    [(None, True), ([], True), ([True, True], True), ([True, False], False)],
)
def test_the_cache_limit_only_where_jax_can_evict(
    tmp_path, monkeypatch, programs, limited
):
    # A program without its access-time file, from a run without a limit,
    # makes every write JAX's eviction does fail.
    folder = tmp_path / "cache"
    if programs is not None:
        folder.mkdir()
        for index, atime in enumerate(programs):
            _program(folder, f"jit_f-{index}", atime)
    monkeypatch.setattr(startup, "too_late", lambda backend: False)
    monkeypatch.setattr(startup, "_version", lambda name: (9, 0))
    environ = {"JAX_COMPILATION_CACHE_DIR": str(folder)}
    assert startup._cache_can_evict(environ) is limited
    assert (_LIMIT in set_speed_switches("jax", environ)) is limited
    assert ("JAX_COMPILATION_CACHE_MAX_SIZE" in environ) is limited


@pytest.mark.skipif(
    keras.backend.backend() != "jax", reason="JAX's own cache, on the JAX run"
)
def test_jax_keeps_the_limited_cache_without_warnings(tmp_path):
    if not startup._applies(Switch("X", "1", requires=_LIMIT.requires)):
        pytest.skip("no limit without filelock")
    environ = _clean_environ()
    environ["XDG_CACHE_HOME"] = str(tmp_path)
    code = (
        "import warnings; warnings.simplefilter('error')\n"
        "import keras_nst, jax, jax.numpy as jnp\n"
        "for n in (3, 4):\n"
        "    jax.jit(lambda x: x * 2)(jnp.ones(n)).block_until_ready()\n"
    )
    for _ in range(2):  # the second run reads, and writes access times
        subprocess.run([sys.executable, "-c", code], env=environ, check=True)
    names = set(os.listdir(tmp_path / "keras-nst" / "jax"))
    programs = [n.removesuffix("-cache") for n in names if n.endswith("-cache")]
    assert len(programs) >= 2
    assert all(f"{key}-atime" in names for key in programs)
