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
            self.optimizer.apply([image.grad], [self.image])
            self.image.assign(self.clip_image(self.image.value))
        return {name: loss.detach() for name, loss in losses.items()}
