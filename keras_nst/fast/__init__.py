"""Fast (feed-forward) style transfer: train a network, stylise in one pass.

Johnson, Alahi & Fei-Fei (2016) train a network to minimise the same
perceptual losses the optimisation method minimises per image: the content
loss against the input photo's own VGG19 features and the style loss
against one painting's Gram matrices, plus total variation. After training,
one forward pass stylises any photo.

The modules, one per part:

- `keras_nst.fast.config`: `TrainConfig`, its defaults and checks (no
  Keras);
- `keras_nst.fast.network`: `TransformNet`, the image transformation
  network, and `load_transform`;
- `keras_nst.fast.padding`: the mirror padding that lets the network take
  any image size, down to 1x1;
- `keras_nst.fast.data`: `RandomCrops`, the training batches;
- `keras_nst.fast.trainer`: `FastStyleTrainer`, the network and its losses
  as one `keras.Model` to `fit`;
- `keras_nst.fast.checkpoint` and `keras_nst.fast.callbacks`: checkpoints,
  the loss log and sample pictures during training;
- `keras_nst.fast.memory`: whether a training or stylising batch fits in
  memory, checked before it runs;
- `keras_nst.fast.inference`: `Stylizer`, the network's forward pass;
- `keras_nst.fast.files` and `keras_nst.fast.stream`: `stylize_files`,
  many images and videos in a stream, each result where its input's path
  says;
- `keras_nst.fast.export`: `export_transform`, a trained network as a
  SavedModel or ONNX file for serving;
- `keras_nst.fast.run`: `train` and `stylize`, the two calls most uses
  need.

Importing this package imports no Keras: the names below load on first
use, so `KERAS_BACKEND` can still be set after it.

Example:

```python
from keras_nst import fast

fast.train("starry_night.jpg", "photos/", "starry.keras", steps=2000)
pictures = fast.stylize("starry.keras", ["cat.jpg"], size=512)
```
"""

from keras_nst.lazy import lazy_exports

_EXPORTS = {
    "CHECKPOINT_EVERY": "keras_nst.fast.config",
    "JOHNSON_STYLE_LAYERS": "keras_nst.fast.config",
    "SAMPLE_EVERY": "keras_nst.fast.config",
    "TrainConfig": "keras_nst.fast.config",
    "resolve_train_config": "keras_nst.fast.config",
    "TransformNet": "keras_nst.fast.network",
    "load_transform": "keras_nst.fast.network",
    "RandomCrops": "keras_nst.fast.data",
    "find_images": "keras_nst.fast.data",
    "FastStyleTrainer": "keras_nst.fast.trainer",
    "Checkpoint": "keras_nst.fast.checkpoint",
    "LossLog": "keras_nst.fast.callbacks",
    "SampleImage": "keras_nst.fast.callbacks",
    "check_stylize_memory": "keras_nst.fast.memory",
    "check_train_memory": "keras_nst.fast.memory",
    "estimate_stylize_bytes": "keras_nst.fast.memory",
    "estimate_train_bytes": "keras_nst.fast.memory",
    "StylizeItem": "keras_nst.fast.files",
    "plan_outputs": "keras_nst.fast.files",
    "Stylizer": "keras_nst.fast.inference",
    "StylizeResult": "keras_nst.fast.stream",
    "stylize_files": "keras_nst.fast.stream",
    "EXPORT_FORMATS": "keras_nst.fast.export",
    "export_transform": "keras_nst.fast.export",
    "exported_output": "keras_nst.fast.export",
    "steps_for": "keras_nst.fast.run",
    "stylize": "keras_nst.fast.run",
    "train": "keras_nst.fast.run",
}

__all__, __getattr__, __dir__ = lazy_exports("keras_nst.fast", _EXPORTS)
