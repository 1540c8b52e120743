"""The losses of neural style transfer, in `keras.ops` only.

Notation of Gatys et al. (2016): a layer `l` has `N_l` channels and
`M_l = height * width` positions; `F` are the generated image's features,
`P` the content image's, `G` and `A` the Gram matrices of the generated and
the style image.

Reference:

- [Gatys, Ecker, Bethge, Image Style Transfer Using Convolutional Neural
  Networks, CVPR 2016](https://openaccess.thecvf.com/content_cvpr_2016/html/Gatys_Image_Style_Transfer_CVPR_2016_paper.html)
"""

from collections.abc import Mapping
from collections.abc import Sequence

from keras import ops

from keras_nst.choices import CONTENT_LOSS_FORMS
from keras_nst.choices import TV_FORMS
from keras_nst.choices import TV_REDUCTIONS
from keras_nst.config import Config
from keras_nst.types import Tensor

__all__ = [
    "content_layers_loss",
    "content_loss",
    "equal_weights",
    "gram_matrix",
    "layer_style_loss",
    "relative_style_weights",
    "style_loss",
    "target_gram_scale",
    "temporal_loss",
    "total_variation_loss",
    "weighted_total",
]


def gram_matrix(features: Tensor) -> Tensor:
    """Gram matrices of feature maps, divided by the number of positions.

    `G_ij = (1 / M_l) sum_k F_ik F_jk`. Gatys et al. do not divide by
    `M_l`; dividing here lets the style image have another size than the
    generated one, and `layer_style_loss` puts the factor back, so the loss
    equals the paper's when the sizes agree.

    Args:
        features: `(batch, height, width, channels)` tensor.

    Returns:
        `(batch, channels, channels)` tensor.

    Example:

    ```python
    features = keras.ops.ones((1, 4, 4, 3))  # 16 positions, 3 channels
    gram_matrix(features)  # (1, 3, 3), every entry 1.0
    ```
    """
    shape = ops.shape(features)
    positions = shape[1] * shape[2]
    flat = ops.reshape(features, (shape[0], positions, shape[3]))
    gram = ops.einsum("bpi,bpj->bij", flat, flat)
    return gram / ops.cast(positions, gram.dtype)


def content_loss(
    features: Tensor,
    target: Tensor,
    form: str = "sum",
    size: int | None = None,
) -> Tensor:
    """Content loss between generated and content features of one layer.

    `form="sum"`: `L = 1/2 sum (F - P)^2` (Gatys et al., eq. 1); it grows
    with the number of positions. `form="mean"`: `L = mean (F - P)^2`, which
    does not depend on the image size.

    Args:
        features: the generated image's features `F`.
        target: the content image's features `P`, same shape.
        form: `"sum"` or `"mean"`.
        size: for `"mean"`, the number of values the mean is over; `None`:
            those of `features`. A tile's share of the whole map's loss
            passes the whole map's.

    Returns:
        A scalar tensor.

    Raises:
        ValueError: an unknown `form`.

    Example:

    ```python
    content_loss(keras.ops.ones((1, 2, 2, 1)), keras.ops.zeros((1, 2, 2, 1)))
    # 0.5 * 4 = 2.0; with form="mean", 1.0
    ```
    """
    squared = ops.square(features - target)
    if form == "sum":
        return 0.5 * ops.sum(squared)
    if form == "mean":
        if size is None:
            return ops.mean(squared)
        return ops.sum(squared) / float(size)
    raise ValueError(
        f"Expected form to be one of {CONTENT_LOSS_FORMS}. "
        f"Received: form={form!r}"
    )


def layer_style_loss(gram: Tensor, target_gram: Tensor) -> Tensor:
    """Style loss of one layer, Gatys et al. eq. 4.

    `E_l = 1 / (4 N_l^2 M_l^2) sum (G - A)^2` with unnormalised Grams,
    which is `1 / (4 N_l^2) sum (G' - A')^2` with the `G' = G / M_l` of
    `gram_matrix`.

    Args:
        gram: `(batch, N_l, N_l)` Gram matrix of the generated image.
        target_gram: `(1, N_l, N_l)` or `(batch, N_l, N_l)` style Gram.

    Returns:
        A scalar tensor (summed over the batch).

    Example:

    ```python
    gram = gram_matrix(features)  # the generated image's, at one layer
    layer_style_loss(gram, gram)  # 0.0: the same Gram matrix
    ```
    """
    channels = ops.cast(ops.shape(gram)[-1], gram.dtype)
    return ops.sum(ops.square(gram - target_gram)) / (4.0 * channels**2)


def target_gram_scale(target_gram: Tensor) -> float:
    """`1 / E_l(G = 0)`: the factor that makes `E_l` a relative Gram error.

    `E_l * target_gram_scale(A) = sum (G - A)^2 / sum A^2`. Not in Gatys et
    al.: with the raw ImageNet VGG19 weights their `E_l` differ by orders
    of magnitude between layers (conv4_1 dominates), so equal `w_l` do not
    give layers equal say. Normalising by the target is one of the remedies
    of jcjohnson/neural-style's `-normalize_gradients` family.

    Args:
        target_gram: `(1, N_l, N_l)` `gram_matrix` of the style image.

    Returns:
        A Python float.
    """
    target = ops.convert_to_numpy(ops.convert_to_tensor(target_gram))
    target = target.astype("float64")
    channels = target.shape[-1]
    energy = float((target**2).sum()) / (4.0 * channels**2)
    return 1.0 / energy if energy > 0 else 1.0


def relative_style_weights(
    weights: Mapping[str, float], target_grams: Mapping[str, Tensor]
) -> dict[str, float]:
    """Each layer's `w_l` times `target_gram_scale` of its target Gram.

    With these weights `style_loss` sums each layer's relative Gram error
    `w_l sum (G - A)^2 / sum A^2` (`style_normalization="target"`).

    Args:
        weights: `w_l` by layer name.
        target_grams: the style image's `gram_matrix` by layer name.

    Returns:
        The weights to give `style_loss`, by layer name.
    """
    return {
        name: weight * target_gram_scale(target_grams[name])
        for name, weight in weights.items()
    }


def style_loss(
    features: Mapping[str, Tensor],
    target_grams: Mapping[str, Tensor],
    layer_weights: Mapping[str, float],
) -> Tensor:
    """Weighted style loss over layers, Gatys et al. eq. 5.

    `L_style = sum_l w_l E_l`.

    Args:
        features: layer name to the generated image's features.
        target_grams: layer name to the style image's `gram_matrix`.
        layer_weights: layer name to `w_l`; only these layers count.

    Returns:
        A scalar tensor.

    Example:

    ```python
    vgg = VGG19Features(["conv1_1", "conv2_1"])
    targets = {k: gram_matrix(v) for k, v in vgg(style_image).items()}
    style_loss(vgg(image), targets, {"block1_conv1": 0.5, "block2_conv1": 0.5})
    ```
    """
    total = 0.0
    for name, weight in layer_weights.items():
        loss = layer_style_loss(gram_matrix(features[name]), target_grams[name])
        total = total + weight * loss
    return total


def total_variation_loss(
    images: Tensor,
    form: str = Config.tv_form,
    reduction: str = Config.tv_reduction,
) -> Tensor:
    """Total variation of images: how much neighbouring pixels differ.

    `form="squared"`: `sum (x[i+1, j] - x[i, j])^2 + (x[i, j+1] - x[i, j])^2`,
    the total variation regulariser with exponent 2 of Mahendran & Vedaldi
    (CVPR 2015), used by Johnson et al. (2016) and jcjohnson/neural-style.
    `form="absolute"`: the same with absolute values (the classic
    anisotropic total variation), as `tf.image.total_variation`. Both are
    sums over the batch, positions and channels, in the pixel units of
    `images`. `reduction="sum"` returns that sum, which grows with the
    image's area; `reduction="mean"` divides it by the number of pixels
    `height * width`, so one weight gives the same smoothing at any size
    (the content and normalised style losses do not grow with the size
    either).

    Args:
        images: `(batch, height, width, channels)` tensor.
        form: `"squared"` or `"absolute"`.
        reduction: `"mean"` (per pixel) or `"sum"`.

    Returns:
        A scalar tensor.

    Raises:
        ValueError: an unknown `form` or `reduction`.

    Example:

    ```python
    image = np.zeros((1, 2, 2, 3), "float32")
    image[0, 0, 0] = 10.0  # one bright pixel: 2 neighbours x 3 channels
    total_variation_loss(image, reduction="sum")  # 2 * 3 * 10^2 = 600.0
    total_variation_loss(image)  # per pixel: 600 / 4 = 150.0
    ```
    """
    if form not in TV_FORMS:
        raise ValueError(
            f"Expected form to be one of {TV_FORMS}. Received: form={form!r}"
        )
    if reduction not in TV_REDUCTIONS:
        raise ValueError(
            f"Expected reduction to be one of {TV_REDUCTIONS}. "
            f"Received: reduction={reduction!r}"
        )
    down = images[:, 1:, :, :] - images[:, :-1, :, :]
    right = images[:, :, 1:, :] - images[:, :, :-1, :]
    measure = ops.square if form == "squared" else ops.abs
    total = ops.sum(measure(down)) + ops.sum(measure(right))
    if reduction == "sum":
        return total
    shape = ops.shape(images)
    return total / ops.cast(shape[1] * shape[2], total.dtype)


def temporal_loss(image: Tensor, warped: Tensor, reliable: Tensor) -> Tensor:
    """Ruder et al.'s (2016) temporal loss: `(1/D) sum c (x - w)^2`.

    Keeps a video frame close to the last stylised frame warped into it,
    where the optical flow is reliable. `D` is the number of values
    (positions times channels), whatever the mask keeps.

    Args:
        image: `(1, H, W, C)`, the frame being optimised.
        warped: the last stylised frame warped to this one, same shape.
        reliable: `(1, H, W, 1)` weights `c` in 0..1.

    Returns:
        A scalar tensor.
    """
    return ops.mean(reliable * ops.square(image - warped))


def weighted_total(
    losses: Mapping[str, Tensor], weights: Mapping[str, float]
) -> Tensor:
    """`alpha * content + beta * style + gamma * tv`.

    Args:
        losses: `{"content": ..., "style": ..., "tv": ...}`.
        weights: the same keys to their weights.

    Returns:
        A scalar tensor.
    """
    return sum(weights[key] * losses[key] for key in weights)


def content_layers_loss(
    features: Mapping[str, Tensor],
    targets: Mapping[str, Tensor],
    layer_weights: Mapping[str, float],
    form: str,
    sizes: Mapping[str, int] | None = None,
) -> Tensor:
    """Weighted content loss over layers: `sum_l w_l L_content,l`.

    Args:
        features: the image's features by layer name.
        targets: the content photo's features by layer name.
        layer_weights: `w_l` by layer name; only these layers count.
        form: `"sum"` or `"mean"`, as in `content_loss`.
        sizes: `content_loss`'s `size` by layer name (`None`: the
            features' own).

    Returns:
        A scalar float32 tensor.
    """
    total = 0.0
    for name, weight in layer_weights.items():
        size = None if sizes is None else sizes[name]
        total = total + weight * content_loss(
            features[name], targets[name], form, size
        )
    return total


def equal_weights(layers: Sequence[str]) -> dict[str, float]:
    """`1 / len(layers)` for each layer.

    Args:
        layers: layer names.

    Returns:
        `{name: 1 / len(layers)}`, weights that sum to 1.
    """
    return {name: 1.0 / len(layers) for name in layers}
