"""`keras-nst video`: a video stylised by optimisation, frame by frame."""

import click

from keras_nst.cli.live import finish_live_view
from keras_nst.cli.live import live_view
from keras_nst.cli.live import loss_weights
from keras_nst.cli.live import web_host_option
from keras_nst.cli.live import web_option
from keras_nst.cli.optimization import checked_config
from keras_nst.cli.optimization import metadata_of
from keras_nst.cli.optimization import preset_option
from keras_nst.cli.options import SectionedCommand
from keras_nst.cli.options import backend_option
from keras_nst.cli.options import given
from keras_nst.cli.options import option
from keras_nst.cli.options import quiet_option
from keras_nst.cli.options import setting_names
from keras_nst.cli.options import setting_options
from keras_nst.cli.runtime import debugging
from keras_nst.cli.runtime import import_keras
from keras_nst.cli.runtime import one_line_errors
from keras_nst.cli.runtime import set_backend
from keras_nst.cli.runtime import signal_exits
from keras_nst.cli.transfer_run import run_schedule
from keras_nst.config import Config
from keras_nst.video.config import VideoConfig


def _seed_of(folder: str):
    from keras_nst.image_output import read_metadata
    from keras_nst.video.frames import frame_path
    from keras_nst.video.frames import written_frames

    if not written_frames(folder):
        return None
    return read_metadata(frame_path(folder, 1)).get("seed")


def _report(report) -> str:
    line = (
        f"frame {report.index}/{report.frames}: {report.seconds:.1f} s, "
        f"total {report.losses['total']:.3g}"
    )
    if report.warping_error is not None:
        line += (
            f", warping error {report.warping_error:.3g} over "
            f"{report.reliable:.0%} of the pixels"
        )
    return line


@click.command(cls=SectionedCommand)
@click.argument("content")
@option(
    "-s",
    "--style",
    group="images",
    required=True,
    multiple=True,
    help="Style image; repeat to blend several.",
)
@option(
    "-o",
    "--output",
    group="output",
    required=True,
    help="Output video: .mp4, .webm or .gif.",
)
@option(
    "--frames-dir",
    group="output",
    help="Where each stylised frame is written as a PNG. "
    "[default: OUTPUT without extension + _frames]",
)
@option(
    "--resume",
    group="output",
    is_flag=True,
    help="Keep the frames already in --frames-dir and go on from the last.",
)
@quiet_option
@web_option
@web_host_option
@preset_option
@backend_option
@setting_options(VideoConfig)
@setting_options(Config)
@click.pass_context
def video(
    ctx, content, style, output, frames_dir, resume, quiet, web_port,
    web_host, preset, backend, **settings,
):  # fmt: skip
    """Paint the video CONTENT in the style of STYLE, frame by frame.

    The first frame is optimised as by `transfer`. Each later frame starts
    from the last result warped along the optical flow between the two
    frames, and a temporal loss keeps it close to that where the flow is
    reliable (Ruder et al. 2016), so the picture does not flicker. Frames
    are kept as PNGs; Ctrl-C stops after the frame in progress and
    `--resume` goes on. The output keeps the frame rate and the audio.

    \b
        keras-nst video clip.mp4 -s starry_night.jpg -o clip_starry.mp4 \\
            --size 256
    """
    from keras_nst.video.config import resolve_video_config
    from keras_nst.video.frames import frames_folder
    from keras_nst.video.io import VIDEO_EXTENSIONS
    from keras_nst.video.io import read_video_info

    set_backend(backend)
    folder = frames_dir or frames_folder(output)
    with one_line_errors(ctx):
        from keras_nst.image_output import check_distinct_outputs

        check_distinct_outputs([output], [content, *style])
        info = read_video_info(content)
        recorded = {"seed": _seed_of(folder)} if resume else {}
        config = checked_config(
            ctx,
            preset,
            setting_names(Config),
            [output],
            list(style),
            {k: v for k, v in recorded.items() if v is not None},
            output_types=VIDEO_EXTENSIONS,
        )
        video_config = resolve_video_config(
            **given(ctx, setting_names(VideoConfig))
        )
    # The first frame runs every scale, each later one its own steps.
    schedule = [
        *run_schedule(config),
        (video_config.frame_iterations * (info.frames - 1), config.size),
    ]
    settings = {"content": content, "style": list(style), **config.to_dict()}
    weights = loss_weights(config)
    with (
        signal_exits(),
        one_line_errors(ctx),
        live_view(web_port, web_host, settings, schedule, weights) as web,
    ):
        import_keras(debugging(ctx))
        from keras_nst.video.optimize import stylize_video

        callbacks = []
        if web is not None:
            from keras_nst.web.callback import WebProgress

            callbacks.append(WebProgress(web, schedule))

        on_frame = None if quiet else (
            lambda report: click.echo(_report(report), err=True)
        )  # fmt: skip
        try:
            stylize_video(
                content,
                list(style),
                output,
                config,
                video_config,
                frames_dir=folder,
                resume=resume,
                on_frame=on_frame,
                callbacks=callbacks,
                metadata=metadata_of(config, content=content, style=style),
            )
        except KeyboardInterrupt:
            click.echo(
                f"The frames so far are in {folder}; go on with the same "
                "command and --resume.",
                err=True,
            )
            raise
        finish_live_view(web, output)
        click.echo(f"Wrote {output}")
