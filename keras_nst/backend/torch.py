"""The optimisation step on PyTorch: `backward()` and a no-grad update."""

import torch


class TrainStep:
    """`train_step` for `StyleTransferModel` on the PyTorch backend."""

    def train_step(self, data):
        image = self.image.value
        image.grad = None
        losses = self.compute_losses(image)
        losses["total"].backward()
        with torch.no_grad():
            if getattr(self.optimizer, "needs_loss", False):
                self.optimizer.loss_variable.assign(losses["total"])
            self.optimizer.apply([image.grad], [self.image])
            self.image.assign(self.clip_image(self.image.value))
            self.update_average()
        return {name: loss.detach() for name, loss in losses.items()}


def has_accelerator() -> bool:
    """Whether PyTorch sees a CUDA (or ROCm) GPU."""
    return torch.cuda.is_available()
