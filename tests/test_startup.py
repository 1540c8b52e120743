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

FLAG = Switch("XLA_FLAGS", "--xla_a=1", flag=True, requires=("jaxlib", (0, 10)))
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
