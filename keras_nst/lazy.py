"""Module attributes that import their module on first use.

So `import keras_nst` (or `keras_nst.fast`) imports no Keras, and
`KERAS_BACKEND` can still be set after it.
"""

import importlib
from collections.abc import Callable
from collections.abc import Mapping

__all__ = ["lazy_exports"]


def lazy_exports(
    package: str, exports: Mapping[str, str]
) -> tuple[list[str], Callable, Callable]:
    """A package's `__all__`, `__getattr__` and `__dir__` for lazy names.

    Args:
        package: the package's name, for the error message.
        exports: each exported name and the module that defines it.

    Returns:
        `(__all__, __getattr__, __dir__)` to assign in the package.
    """

    def getattr_(name: str):
        if name in exports:
            return getattr(importlib.import_module(exports[name]), name)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    def dir_() -> list[str]:
        module = importlib.import_module(package)
        return sorted(set(vars(module)) | set(exports))

    return sorted(exports), getattr_, dir_
