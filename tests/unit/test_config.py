"""Where the data lives: --database, then REVIEWER_DATABASE_URL, then the settings file,
then the SQLite file in the user's data folder."""

from __future__ import annotations

from reviewer import settings as config


def test_database_url_precedence(isolated_home, monkeypatch):
    default = config.resolve_database_url()
    assert default == f"sqlite:///{isolated_home / 'data' / 'reviewer' / 'reviewer.db'}"
    settings = config.config_file()
    settings.parent.mkdir(parents=True)
    settings.write_text('database_url = "sqlite:////srv/from-settings.db"\n')
    assert config.resolve_database_url() == "sqlite:////srv/from-settings.db"
    monkeypatch.setenv("REVIEWER_DATABASE_URL", "sqlite:////srv/from-env.db")
    assert config.resolve_database_url() == "sqlite:////srv/from-env.db"
    assert config.resolve_database_url("sqlite:////srv/cli.db") == "sqlite:////srv/cli.db"


def test_default_database_is_created_in_the_data_folder(isolated_home, capsys):
    from reviewer.cli import main

    assert main(["seed-demo", "--count", "3"]) == 0
    assert (isolated_home / "data" / "reviewer" / "reviewer.db").exists()
    assert "seeded 3" in capsys.readouterr().out
