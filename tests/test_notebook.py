"""`LivePreview` in an IPython shell: one output, updated in place."""

import base64
import io
import re

import numpy as np
import pytest
from PIL import Image

pytest.importorskip("IPython", reason="the notebook extra is not installed")
pytest.importorskip("matplotlib", reason="the notebook extra is not installed")

from IPython.core.interactiveshell import InteractiveShell  # noqa: E402
from IPython.utils.capture import capture_output  # noqa: E402

from keras_nst.notebook import LivePreview  # noqa: E402
from keras_nst.presets import resolve_config  # noqa: E402
from keras_nst.style_transfer import transfer  # noqa: E402


@pytest.fixture(scope="module")
def shell():
    return InteractiveShell.instance()


@pytest.fixture
def images(rng):
    content = rng.uniform(0, 255, (20, 24, 3)).astype("float32")
    style = rng.uniform(0, 255, (16, 16, 3)).astype("float32")
    return content, style


def _pictures(output) -> list[np.ndarray]:
    sources = re.findall(r'src="data:image/png;base64,([^"]+)"', output)
    return [
        np.asarray(Image.open(io.BytesIO(base64.b64decode(s)))) for s in sources
    ]


def test_a_run_updates_one_output_in_place(shell, images):
    content, style = images
    preview = LivePreview(interval=0.0, width=200)
    config = resolve_config(
        "gatys", size=32, iterations=4, scales=2, refine_iterations=3,
        start_size=24, weights=None, seed=1,
    )  # fmt: skip
    with capture_output(display=True) as captured:
        result = transfer(content, style, config, callbacks=[preview])
    outputs = captured.outputs
    # One display, then every step's update of that same display.
    display_ids = {o.transient["display_id"] for o in outputs}
    assert len(display_ids) == 1
    assert [o.update for o in outputs] == [False] + [True] * preview.updates
    assert preview.updates == 7 + 2  # each step, and each scale's end
    final = outputs[-1].data["text/html"]
    assert "step 7: loss " in final
    assert "α·content" in final and "β·style" in final and "γ·tv" in final
    picture, plot = _pictures(final)
    # The picture shown is the run's result.
    assert picture.shape == result.shape
    np.testing.assert_allclose(picture, np.rint(result), atol=1)
    assert plot.shape[2] in (3, 4) and plot.shape[:2] == (280, 420)


def test_history_is_the_weighted_terms_adding_up_to_the_total(shell, images):
    content, style = images
    preview = LivePreview(interval=1e9)
    config = resolve_config(
        "gatys", size=24, iterations=3, scales=1, weights=None, seed=2
    )
    with capture_output(display=True) as captured:
        transfer(content, style, config, callbacks=[preview])
    # Only the end of the fit updates at a long interval.
    assert preview.updates == 1 and len(captured.outputs) == 2
    assert [step for step, _ in preview.history["total"]] == [1, 2, 3]
    for index in range(3):
        terms = sum(
            preview.history[name][index][1]
            for name in ("content", "style", "tv")
        )
        total = preview.history["total"][index][1]
        assert terms == pytest.approx(total, rel=1e-4)


def test_without_ipython_it_says_what_to_install(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_ipython(name, *args, **kwargs):
        if name.startswith("IPython"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_ipython)
    with pytest.raises(ImportError, match=r"keras-nst\[notebook\]"):
        LivePreview()
