import subprocess
import sys

import keras
import pytest

_RUN = """
import sys
import numpy as np
import keras_nst
image = np.zeros((32, 32, 3), "float32")
keras_nst.transfer(image, image, size=32, iterations=1, weights=None,
                   verbose=0)
print(sorted({"tensorflow", "jax", "torch"} & set(sys.modules)))
"""


@pytest.mark.skipif(
    keras.backend.backend() == "tensorflow", reason="TensorFlow is the backend"
)
def test_a_run_on_another_backend_does_not_import_tensorflow():
    # Importing TensorFlow costs seconds and most of a gigabyte; VGG19's
    # padded convolutions once did it through Keras' serialisation.
    result = subprocess.run(
        [sys.executable, "-c", _RUN],
        capture_output=True,
        text=True,
        check=True,
    )
    imported = result.stdout.strip().splitlines()[-1]
    assert "tensorflow" not in imported
    assert keras.backend.backend() in imported
