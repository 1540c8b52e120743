"""Video: frames in and out, optical flow, and temporally consistent runs.

`io` reads and writes video files in a stream through `imageio-ffmpeg`
(the `video` extra, which brings its own ffmpeg); `flow` computes optical
flow with OpenCV, warps images along it and masks where it is unreliable;
`optimize` stylises a clip frame by frame with the temporal loss of Ruder,
Dosovitskiy and Brox (2016). Nothing here imports Keras until a run
starts.
"""
