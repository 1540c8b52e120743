"""The values each setting may take: the choices and the numeric bounds.

`keras_nst.config.Config` and the fast method's `TrainConfig` declare
their fields with these; the modules that act on a setting check a value
against the same tuple. Nothing here imports Keras, so the command line
can build its options before it chooses a backend.
"""

POOLING_MODES = ("max", "avg")
"""VGG19's pooling: the original max, or average (Gatys et al.)."""
INIT_MODES = ("content", "noise", "style")
"""Where the image starts (or give `Config.init` an image file)."""
CONTENT_LOSS_FORMS = ("sum", "mean")
"""`sum`: Gatys et al.'s 1/2 sum of squares; `mean`: mean of squares."""
TV_FORMS = ("squared", "absolute")
"""The total variation penalty on neighbouring pixels' differences."""
TV_REDUCTIONS = ("mean", "sum")
"""`mean` divides the total variation by the number of pixels, so the same
weight smooths as much at any size; `sum` is the plain sum."""
STYLE_LOSSES = ("gram", "w2")
"""`gram`: Gatys et al.'s Gram matrices; `w2`: the Wasserstein-2 distance
between Gaussians fitted to each layer's features (`keras_nst.wasserstein`)."""
PADDINGS = ("zero", "reflect", "replicate")
"""How VGG19's 3x3 convolutions pad their input: VGG19's own zeros, a
mirror of the border (the outermost pixel still feeds fewer windows than
the others) or a copy of it (every pixel feeds as many windows)."""
STYLE_NORMALIZATIONS = ("none", "target")
"""`target` divides each style layer's loss by its value for an all-zero
Gram matrix, making it the relative Gram error (see `keras_nst.losses`)."""
COLOR_MODES = ("none", "luminance", "histogram")
"""Colour preservation (Gatys et al. 2016b, arXiv:1606.05897)."""
OPTIMIZERS = ("adam", "lbfgs")
"""The optimisers `Config.optimizer` may name."""
PRECISIONS = ("fp32", "bf16")
"""The VGG19 forward and backward pass's arithmetic; losses stay float32."""
LINE_SEARCHES = ("none", "armijo")
"""L-BFGS's step rule (kept here so the CLI needs no Keras)."""
LOSS_NAMES = ("total", "content", "style", "tv")
"""The loss terms every run reports, in the progress bar and the log."""

# Upper bounds, so that an absurd number is a usage error instead of an
# OverflowError deep in Pillow or NumPy. The memory check refuses what does
# not fit the machine long before these.
MAX_SIDE = 2**16
"""The largest `size` and `style_size`: 65536 px, JPEG's limit is 65535
and one 65536 px square float32 image alone is 51 GB."""
MAX_ITERATIONS = 10**9
"""The most steps per scale: decades at 1 s a step, and under 2**31, so
no backend's int32 step counter overflows."""
MAX_SCALES = 16
"""The most coarse-to-fine scales: 16 span 2**7.5 = 181x, from 128 px to
23170 px (and from a 16 px start, as small as VGG19 can see, to 2896 px)."""
MAX_LBFGS_HISTORY = 1000
"""The most L-BFGS curvature pairs: each costs 2 x H x W x 3 floats, and
torch.optim's L-BFGS keeps 100."""
MAX_SEED = 2**32 - 1
"""The largest seed: 32 bits, what `keras.utils.set_random_seed` and
NumPy's legacy seeding take, so a seed means the same everywhere."""
