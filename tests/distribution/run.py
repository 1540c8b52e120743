"""Runs in its own process: KERAS_BACKEND (and XLA_FLAGS) are fixed by the
test before Keras is imported.

    run.py stylize MODEL DIR          DIR/image.npy -> DIR/out_<backend>.npy
    run.py train STYLE PHOTOS DIR     data-parallel training on 2 devices
    run.py infer MODEL DIR            DIR/images.npy -> DIR/parallel.npy,
                                      data-parallel on 2 devices
"""

import json
import os
import sys


def _two_cpu_devices_for_tensorflow():
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration()] * 2
    )


def stylize(model_path, directory):
    import keras
    import numpy as np

    from keras_nst.fast import load_transform

    net = load_transform(model_path)
    image = np.load(os.path.join(directory, "image.npy"))
    out = keras.ops.convert_to_numpy(net(image))
    np.save(os.path.join(directory, f"out_{keras.backend.backend()}.npy"), out)


def infer(model_path, directory):
    if os.environ.get("KERAS_BACKEND") == "tensorflow":
        _two_cpu_devices_for_tensorflow()
    import numpy as np

    from keras_nst.fast import load_transform
    from keras_nst.fast.inference import Stylizer

    stylizer = Stylizer(load_transform(model_path), distribute=True)
    images = np.load(os.path.join(directory, "images.npy"))
    np.save(os.path.join(directory, "parallel.npy"), stylizer(images))
    print(json.dumps({"replicas": stylizer.replicas}))


def train(style, photos, directory):
    if os.environ.get("KERAS_BACKEND") == "tensorflow":
        _two_cpu_devices_for_tensorflow()
    import keras

    from keras_nst.fast import RandomCrops
    from keras_nst.fast import train as run_training

    first = RandomCrops(photos, 32, 4, 4, seed=0)[0]
    seen = {}

    class FirstStep(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            # The first batch's loss at the initial weights, in one piece.
            model = self.model
            total = model.compute_losses(first, model.transform(first))
            seen["single"] = float(keras.ops.convert_to_numpy(total["total"]))

        def on_train_batch_end(self, batch, logs=None):
            if batch == 0:
                seen["first_step"] = float(logs["loss"])

    trainer = run_training(
        style, photos, os.path.join(directory, "m.keras"), weights=None,
        size=32, batch_size=4, steps=4, style_layers=("conv1_2",),
        content_layers=("conv1_2",), filters=4, residual_blocks=1,
        distribute=True, verbose=0, callbacks=[FirstStep()],
    )  # fmt: skip
    if keras.backend.backend() == "jax":
        kernel = trainer.transform.trainable_variables[0].value
        replicas = len(kernel.sharding.device_set)
    else:
        replicas = trainer.distribute_strategy.num_replicas_in_sync
    steps = trainer.optimizer.iterations
    print(
        json.dumps(
            {
                "replicas": replicas,
                "steps": int(keras.ops.convert_to_numpy(steps)),
                "first_step_loss": seen["first_step"],
                "single_device_loss": seen["single"],
            }
        )
    )


if __name__ == "__main__":
    command, *args = sys.argv[1:]
    {"stylize": stylize, "train": train, "infer": infer}[command](*args)
