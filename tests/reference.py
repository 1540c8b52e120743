"""Independent NumPy versions of the paper's formulas, for the tests.

Written from Gatys et al. (2016), eqs. 1-5, with unnormalised Gram
matrices, not from keras_nst's code.
"""

import numpy as np


def content_loss(F, P, form="sum"):
    diff = np.asarray(F, np.float64) - np.asarray(P, np.float64)
    if form == "sum":
        return 0.5 * np.sum(diff**2)
    return np.mean(diff**2)


def unnormalised_gram(features):
    """G_ij = sum_k F_ik F_jk for one image, features (H, W, N)."""
    h, w, n = features.shape
    flat = np.asarray(features, np.float64).reshape(h * w, n)
    gram = np.zeros((n, n))
    for i in range(n):
        for j in range(n):
            gram[i, j] = np.dot(flat[:, i], flat[:, j])
    return gram


def layer_style_loss(F, S):
    """E_l = 1 / (4 N^2 M^2) sum (G - A)^2, F and S of the same shape."""
    h, w, n = F.shape
    m = h * w
    G = unnormalised_gram(F)
    A = unnormalised_gram(S)
    return np.sum((G - A) ** 2) / (4.0 * n**2 * m**2)


def total_variation(image, form="squared"):
    image = np.asarray(image, np.float64)
    total = 0.0
    h, w, _ = image.shape
    for i in range(h):
        for j in range(w):
            for di, dj in ((1, 0), (0, 1)):
                if i + di < h and j + dj < w:
                    d = image[i + di, j + dj] - image[i, j]
                    total += np.sum(d**2 if form == "squared" else np.abs(d))
    return total


def caffe_preprocess(image):
    """RGB 0..255 -> BGR minus the ImageNet mean (Keras' caffe mode)."""
    bgr = np.asarray(image, np.float64)[..., ::-1]
    return bgr - np.array([103.939, 116.779, 123.68])


def wasserstein_gradient(features, mean2, root2):
    """Gradient of one item's W2^2 to N(mean2, root2^2), in float64.

    `2 (mu1 - mu2) / M + 2 Fc / M` minus the nuclear norm's
    `2 P U V^T S2^1/2 / sqrt(M)` (P removes the mean), from
    `tr((S2^1/2 S1 S2^1/2)^1/2) = |Fc S2^1/2|_* / sqrt(M)`.
    """
    features = np.asarray(features, np.float64)
    flat = features.reshape(-1, features.shape[-1])
    m = len(flat)
    centred = flat - flat.mean(0)
    u, s, vt = np.linalg.svd(centred @ root2, full_matrices=False)
    keep = s > s.max() * 1e-9
    cross = u[:, keep] @ vt[keep] @ root2
    cross -= cross.mean(0)
    grad = 2 * (flat.mean(0) - mean2) / m + 2 * centred / m
    return (grad - 2 * cross / np.sqrt(m)).reshape(features.shape)
