"""Numbers written the way the papers and our docs write them: 3e6, 2.46e5.

Shared by the figure scripts (`compare.py`, `gallery.py`) and the docs'
MkDocs hook, so a loss reads the same on a figure, the gallery page and in
a table.
"""


def short_float(value: float, digits: int = 6) -> str:
    """`value` to `digits` significant digits, exponent without `+` or 0s.

    Example:

    ```python
    short_float(3e6)  # "3e6", not "3e+06"
    short_float(246375.53, 3)  # "2.46e5"
    short_float(0.001)  # "0.001"
    ```
    """
    mantissa, e, exponent = f"{value:.{digits}g}".partition("e")
    return f"{mantissa}e{int(exponent)}" if e else mantissa
