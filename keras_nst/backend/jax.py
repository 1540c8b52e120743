"""The optimisation step on JAX: a pure function of the model's state."""

import jax
import keras

# The layout VGG19 runs in: XLA picks its own layouts; NHWC is Keras' default.
FEATURE_DATA_FORMAT = "channels_last"
# Whether bf16 can be fast without a GPU: not here. XLA's CPU backend has
# no fast bf16 convolutions; bf16 ran 1.1x slower than fp32 at 256 px on a
# CPU with avx512_bf16 (scripts/bench.py).
CPU_BF16_IS_FAST = False


class TrainStep:
    """`train_step` for `StyleTransferModel` on the JAX backend.

    Keras' JAX trainer passes the variables' values in and takes the new
    ones back. The gradient comes from `jax.value_and_grad` of the losses
    computed inside a `StatelessScope` (reads see the values passed in);
    the model's shared `apply_step` then runs inside another, which maps
    the trainable, non-trainable and optimiser variables to their values
    and collects every assignment (the optimiser's `apply` in such a scope
    is what Keras' `stateless_apply` does).
    """

    def train_step(self, state, data):
        trainable, non_trainable, optimizer_state, metrics = state

        mapping = list(
            zip(self.non_trainable_variables, non_trainable, strict=True)
        )

        def total_loss(image):
            with keras.StatelessScope(state_mapping=mapping):
                losses = self.compute_losses(image)
            return losses["total"], losses

        (_, losses), gradient = jax.value_and_grad(total_loss, has_aux=True)(
            trainable[0]
        )
        groups = (
            (self.trainable_variables, trainable),
            (self.non_trainable_variables, non_trainable),
            (self.optimizer.variables, optimizer_state),
        )
        mapping = [
            pair
            for variables, values in groups
            for pair in zip(variables, values, strict=True)
        ]
        with keras.StatelessScope(state_mapping=mapping) as scope:
            self.apply_step(losses, gradient)
        trainable, non_trainable, optimizer_state = (
            [scope.get_current_value(v) for v in variables]
            for variables, _ in groups
        )
        return losses, (trainable, non_trainable, optimizer_state, metrics)


def has_accelerator() -> bool:
    """Whether JAX runs on a GPU or TPU."""
    return jax.default_backend() != "cpu"


def device_name() -> str:
    """The GPU or TPU's name, or `""` when the run is on the CPU."""
    if not has_accelerator():
        return ""
    return jax.devices()[0].device_kind


def prepare_network(network) -> None:
    """Nothing to do: the backend takes Keras' kernel layout as it is."""


def data_parallel():
    """Returns `keras.distribution.DataParallel` over every JAX device.

    Keras' own trainer splits each batch across the devices and averages
    the gradients.
    """
    return keras.distribution.DataParallel(
        devices=keras.distribution.list_devices()
    )


def replica_share() -> float:
    """Returns 1: each replica's share of the global mean loss.

    With `DataParallel` the step is one program over the global batch, so
    its mean loss needs no scaling.
    """
    return 1.0
