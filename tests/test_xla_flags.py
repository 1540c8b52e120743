import os

import pytest

from keras_nst import xla_flags
from keras_nst.cli.runtime import set_backend
from keras_nst.xla_flags import FAST_CPU_FLAGS
from keras_nst.xla_flags import add_fast_cpu_flags


@pytest.fixture
def new_jaxlib(monkeypatch):
    monkeypatch.setattr(xla_flags, "_jaxlib_version", lambda: (0, 10))


def test_the_flags_are_added_to_the_user_s(new_jaxlib):
    environ = {"XLA_FLAGS": "--xla_force_host_platform_device_count=2"}
    assert add_fast_cpu_flags(environ)
    assert environ["XLA_FLAGS"].split() == [
        "--xla_force_host_platform_device_count=2",
        *FAST_CPU_FLAGS,
    ]
    add_fast_cpu_flags(environ)  # once only
    assert environ["XLA_FLAGS"].split().count(FAST_CPU_FLAGS[0]) == 1


def test_a_flag_the_user_set_is_kept_as_given(new_jaxlib):
    name = FAST_CPU_FLAGS[0].split("=")[0]
    environ = {"XLA_FLAGS": f"{name}=default"}
    add_fast_cpu_flags(environ)
    assert environ["XLA_FLAGS"] == f"{name}=default"


@pytest.mark.parametrize("version", [(0, 4), None])
def test_an_older_or_missing_jaxlib_is_left_alone(monkeypatch, version):
    monkeypatch.setattr(xla_flags, "_jaxlib_version", lambda: version)
    environ = {}
    assert not add_fast_cpu_flags(environ)
    assert environ == {}


def test_the_command_line_sets_them_for_jax_only(new_jaxlib, monkeypatch):
    import keras

    backend = keras.backend.backend()
    monkeypatch.delenv("XLA_FLAGS", raising=False)
    monkeypatch.setenv("KERAS_BACKEND", backend)
    set_backend(None)
    flags = os.environ.get("XLA_FLAGS", "").split()
    assert (FAST_CPU_FLAGS[0] in flags) == (backend == "jax")
