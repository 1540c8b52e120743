import click
import pytest

from keras_nst.cli import runtime
from keras_nst.startup import configured_backend


@pytest.fixture
def no_preset_backend(monkeypatch, tmp_path):
    monkeypatch.delenv("KERAS_BACKEND", raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    return tmp_path


def test_unknown_backend_is_named(monkeypatch):
    monkeypatch.setenv("KERAS_BACKEND", "numpyy")
    with pytest.raises(click.ClickException, match="asks for 'numpyy'") as e:
        runtime.set_backend(None)
    assert "KERAS_BACKEND" in e.value.message
    assert len(e.value.message.splitlines()) == 1


def test_backend_not_installed_names_the_extra(monkeypatch):
    monkeypatch.setenv("KERAS_BACKEND", "jax")
    monkeypatch.setattr(runtime.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(click.ClickException) as error:
        runtime.set_backend(None)
    assert error.value.message == (
        "The jax backend is not installed: pip install 'keras-nst[jax]'"
    )


def test_backend_from_keras_json(no_preset_backend):
    (no_preset_backend / "keras.json").write_text('{"backend": "torch"}')
    assert configured_backend()[0] == "torch"
    (no_preset_backend / "keras.json").write_text("not json")
    assert configured_backend() == ("tensorflow", "the default")


def test_other_backend_after_keras_is_imported_is_a_usage_error():
    import keras

    other = next(b for b in runtime.BACKENDS if b != keras.backend.backend())
    with pytest.raises(click.UsageError, match="already imported"):
        runtime.set_backend(other)


@pytest.mark.parametrize(
    "error", [ValueError("bad\nsecond line"), OSError("bad"), KeyError("k")]
)
def test_one_line_errors_converts_only_user_errors(error):
    ctx = click.Context(click.Command("x"))
    if isinstance(error, KeyError):
        with pytest.raises(KeyError), runtime.one_line_errors(ctx):
            raise error
        return
    with (
        pytest.raises(click.ClickException) as caught,
        runtime.one_line_errors(ctx),
    ):
        raise error
    assert caught.value.message == "bad"


def test_library_errors_are_user_errors():
    from keras_nst.errors import InsufficientMemoryError
    from keras_nst.errors import KerasNSTError
    from keras_nst.errors import NonFiniteLossError
    from keras_nst.errors import WeightsError

    for cls in (WeightsError, InsufficientMemoryError, NonFiniteLossError):
        assert issubclass(cls, KerasNSTError)
    assert not issubclass(RuntimeError, runtime.USER_ERRORS)
    assert not issubclass(MemoryError, runtime.USER_ERRORS)


@pytest.mark.parametrize(
    "error",
    [
        MemoryError(),
        RuntimeError(
            "Exception encountered when calling Conv2D.call().\n\n"
            "\x1b[1m[enforce fail at alloc_cpu.cpp:127] err == 0. "
            "DefaultCPUAllocator: can't allocate memory: you tried to "
            "allocate 2619342848 bytes.\x1b[0m"
        ),
        RuntimeError("RESOURCE_EXHAUSTED: Out of memory allocating 4 GB"),
    ],
)
def test_an_allocation_failure_is_one_line(error):
    import click

    from keras_nst.cli.runtime import one_line_errors

    ctx = click.Context(click.Command("x"))
    with pytest.raises(click.ClickException) as caught, one_line_errors(ctx):
        raise error
    message = caught.value.message
    assert message.startswith("Ran out of memory")
    assert "\n" not in message and "\x1b" not in message


def test_other_errors_keep_their_traceback():
    import click

    from keras_nst.cli.runtime import one_line_errors

    ctx = click.Context(click.Command("x"))
    with pytest.raises(RuntimeError, match="a bug"), one_line_errors(ctx):
        raise RuntimeError("a bug")
