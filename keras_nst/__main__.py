"""`python -m keras_nst` runs the `keras-nst` command."""

from keras_nst.cli import main

main()
