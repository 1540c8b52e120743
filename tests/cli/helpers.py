from click.testing import CliRunner

from keras_nst import cli


def invoke(*args):
    """Runs `keras-nst ARGS...` in this process; returns Click's result."""
    return CliRunner().invoke(cli.main, [str(a) for a in args])


def record_optimize(monkeypatch, seen):
    """Replaces the optimisation by one that records the run's `Config`.

    `seen` gets the `config`, the `metadata` the picture would carry, and
    the `content` and `styles`; nothing is written.
    """
    from keras_nst.cli import transfer_run

    def fake_optimize(run, content, styles, config, metadata):
        seen.update(
            config=config, metadata=metadata, content=content, styles=styles
        )
        return {"total": 0.0}

    monkeypatch.setattr(transfer_run.TransferRun, "optimize", fake_optimize)
