"""A live view of a run in the browser: `keras-nst transfer --web`.

`LiveState` holds what the page shows (the picture, the losses, the
settings, the progress) and the stop request; `LiveServer` serves it on
127.0.0.1 with a random token in the URL; `WebProgress` is the Keras
callback that fills it from the run. The page and its script ship in the
package: nothing is loaded from elsewhere.
"""
