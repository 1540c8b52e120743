"""The optimisation step on JAX: a pure function of the model's state."""

import jax
import keras

# The layout VGG19 runs in: XLA picks its own layouts; NHWC is Keras' default.
FEATURE_DATA_FORMAT = "channels_last"


class TrainStep:
    """`train_step` for `StyleTransferModel` on the JAX backend.

    Keras' JAX trainer passes the variables' values in and takes the new
    ones back, so the step reads VGG19's weights and the targets through a
    `StatelessScope` and never touches `self.image`.
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
        if getattr(self.optimizer, "needs_loss", False):
            optimizer_state = [
                losses["total"] if v is self.optimizer.loss_variable else value
                for v, value in zip(
                    self.optimizer.variables, optimizer_state, strict=True
                )
            ]
        trainable, optimizer_state = self.optimizer.stateless_apply(
            optimizer_state, [gradient], trainable
        )
        trainable = [self.clip_image(trainable[0])]
        # The moving average, if any, is among the non-trainable variables.
        with keras.StatelessScope(
            state_mapping=[*mapping, (self.image, trainable[0])]
        ) as scope:
            self.update_average()
        non_trainable = [scope.get_current_value(v) for v, _ in mapping]
        return losses, (trainable, non_trainable, optimizer_state, metrics)


def has_accelerator() -> bool:
    """Whether JAX runs on a GPU or TPU."""
    return jax.default_backend() != "cpu"


def prepare_network(network) -> None:
    """Nothing to do: the backend takes Keras' kernel layout as it is."""
