"""keras-nst: neural style transfer (Gatys et al.) on Keras 3.

Importing the package imports no Keras: names load on first use, so the
command line (and you) can set `KERAS_BACKEND` first. It turns on the
speed switches of the backend Keras will pick that you have not set
(`keras_nst.startup`), where Keras is not imported yet.
"""

from keras_nst.lazy import lazy_exports
from keras_nst.startup import configured_backend
from keras_nst.startup import set_speed_switches

__version__ = "0.1.0"

_EXPORTS = {
    "Config": "keras_nst.config",
    "KerasNSTError": "keras_nst.errors",
    "WeightsError": "keras_nst.errors",
    "InsufficientMemoryError": "keras_nst.errors",
    "NonFiniteLossError": "keras_nst.errors",
    "PRESETS": "keras_nst.presets",
    "resolve_config": "keras_nst.presets",
    "load_image": "keras_nst.image_io",
    "save_image": "keras_nst.image_output",
    "VGG19Features": "keras_nst.features",
    "build_extractor": "keras_nst.features",
    "StyleTransferModel": "keras_nst.model",
    "ModelInputs": "keras_nst.inputs",
    "model_inputs": "keras_nst.inputs",
    "Snapshot": "keras_nst.callbacks",
    "JsonlLogger": "keras_nst.callbacks",
    "StopOnNaN": "keras_nst.callbacks",
    "LivePreview": "keras_nst.notebook",
    "LBFGS": "keras_nst.lbfgs",
    "make_grid": "keras_nst.grid",
    "optimize": "keras_nst.style_transfer",
    "build_model": "keras_nst.style_transfer",
    "transfer": "keras_nst.style_transfer",
}

__all__, __getattr__, __dir__ = lazy_exports("keras_nst", _EXPORTS)

set_speed_switches(configured_backend()[0])
