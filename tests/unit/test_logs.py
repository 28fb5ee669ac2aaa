"""The log file rotates as logging.handlers.RotatingFileHandler rotates it (reviewer.logs keeps
its own handler so that a start does not load that module)."""

from __future__ import annotations

import logging
import logging.handlers

from reviewer import logs, settings


def _write(handler: logging.Handler, lines: list[str]) -> None:
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    for i, text in enumerate(lines):
        handler.handle(logging.LogRecord("reviewer.x", logging.INFO, __file__, i, text, None, None))
    handler.close()


def test_the_log_rotates_as_the_standard_handler_does(tmp_path):
    lines = [f"event {i} " + "é" * (i % 37) for i in range(400)]
    ours, theirs = tmp_path / "ours", tmp_path / "theirs"
    ours.mkdir()
    theirs.mkdir()
    (ours / "r.log").write_text("kept from before\n", encoding="utf-8")
    (theirs / "r.log").write_text("kept from before\n", encoding="utf-8")
    _write(logs.RotatingFile(ours / "r.log", max_bytes=1000, backups=3), lines)
    _write(logging.handlers.RotatingFileHandler(theirs / "r.log", maxBytes=1000, backupCount=3,
                                                encoding="utf-8"), lines)  # fmt: skip
    names = sorted(p.name for p in ours.iterdir())
    assert names == ["r.log", "r.log.1", "r.log.2", "r.log.3"] == sorted(p.name for p in theirs.iterdir())
    for name in names:
        assert (ours / name).read_bytes() == (theirs / name).read_bytes(), name


def test_a_command_logs_to_the_rotating_file(isolated_home):
    logs.setup_logging()
    handler = next(h for h in logging.getLogger().handlers if h.get_name() == logs._HANDLER_NAME)
    assert isinstance(handler, logs.RotatingFile) and handler.baseFilename == str(settings.log_file())
    assert (handler.max_bytes, handler.backups) == (2_000_000, 3)
