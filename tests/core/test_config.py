import secrets
import threading

import pytest

from chatapp.core.config import ConfigError, load_settings


def test_development_generates_a_secret_once_and_keeps_it(isolated_settings):
    first = load_settings()
    second = load_settings()
    assert len(first.secret_key) >= 32
    assert first.secret_key == second.secret_key
    key_file = isolated_settings / "secret_key"
    assert key_file.read_text().strip() == first.secret_key
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"


def test_workers_starting_together_share_one_generated_secret(isolated_settings):
    """Several processes (here threads) starting at once on a fresh data directory: one key."""
    from concurrent.futures import ThreadPoolExecutor

    barrier = threading.Barrier(8)

    def start() -> str:
        barrier.wait()
        return load_settings().secret_key

    with ThreadPoolExecutor(8) as pool:
        keys = list(pool.map(lambda _: start(), range(8)))
    assert len(set(keys)) == 1 and len(keys[0]) >= 32
    assert [p.name for p in isolated_settings.iterdir() if "secret" in p.name] == ["secret_key"]


def test_default_database_is_a_sqlite_file_in_the_data_directory(isolated_settings):
    settings = load_settings()
    assert settings.database_url == f"sqlite:///{(isolated_settings / 'chatapp.db').as_posix()}"
    assert settings.qdrant_path == isolated_settings / "qdrant"


@pytest.mark.parametrize("secret", ["", "changeme", "short-secret"])
def test_production_refuses_missing_or_weak_secret(monkeypatch, secret):
    monkeypatch.setenv("CHATAPP_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", secret)
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        load_settings()


def test_production_accepts_a_strong_secret_and_writes_no_file(monkeypatch, isolated_settings):
    monkeypatch.setenv("CHATAPP_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", secrets.token_urlsafe(48))
    settings = load_settings()
    assert settings.is_production
    assert not (isolated_settings / "secret_key").exists()


def test_invalid_numbers_are_refused(monkeypatch):
    monkeypatch.setenv("DEFAULT_MESSAGE_LIMIT", "-5")
    with pytest.raises(ValueError, match="default_message_limit"):
        load_settings()


def test_env_example_documents_every_setting():
    from pathlib import Path

    from chatapp.core.config import Settings

    root = Path(__file__).resolve().parents[2]
    documented = {
        line.split("=", 1)[0]
        for line in (root / ".env.example").read_text().splitlines()
        if "=" in line and not line.startswith("#")
    }
    assert {name.upper() for name in Settings.model_fields} <= documented


def test_empty_values_in_the_environment_mean_default(monkeypatch, isolated_settings):
    monkeypatch.setenv("QDRANT_PATH", "")
    monkeypatch.setenv("DATABASE_URL", "")
    settings = load_settings()
    assert settings.qdrant_path == isolated_settings / "qdrant"
    assert settings.database_url.startswith("sqlite:///")


WEAK_LONG_KEYS = [
    "a" * 64,
    "changemechangemechangemechangeme",
    "0123456789abcdef0123456789abcdef0123456789abcdef",
    "abcdefghijklmnopqrstuvwxyz0123456789",
    "Password1!Password1!Password1!Password1!",
    "zyxwvutsrqponmlkjihgfedcbaZYXWVUTSRQPONMLKJIHGFEDCBA",
]


@pytest.mark.parametrize("secret", WEAK_LONG_KEYS)
def test_production_refuses_long_but_guessable_keys(monkeypatch, capsys, secret):
    """32+ characters are not enough: repeats and runs carry almost no randomness. check-config
    says so, and how to make a good key."""
    from chatapp import cli

    monkeypatch.setenv("CHATAPP_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", secret)
    with pytest.raises(ConfigError, match="SECRET_KEY") as refused:
        load_settings()
    assert "secrets.token_urlsafe(48)" in str(refused.value)
    assert "128 bits" in str(refused.value)
    assert cli.main(["check-config"]) == 2
    err = capsys.readouterr().err
    assert "SECRET_KEY" in err and "token_urlsafe(48)" in err and secret not in err


def test_production_accepts_generated_keys(monkeypatch):
    """The suggested command's keys and hex keys of 128+ bits always pass (400 tries)."""
    from chatapp.core.secret_strength import estimated_bits

    for _ in range(200):
        assert estimated_bits(secrets.token_urlsafe(48)) >= 256
        assert estimated_bits(secrets.token_hex(32)) >= 200
    monkeypatch.setenv("CHATAPP_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", secrets.token_hex(32))
    assert load_settings().is_production


def test_production_refuses_a_weak_metrics_token(monkeypatch):
    monkeypatch.setenv("CHATAPP_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", secrets.token_urlsafe(48))
    monkeypatch.setenv("METRICS_TOKEN", "metrics-metrics-metrics-metrics!")
    with pytest.raises(ConfigError, match=r"METRICS_TOKEN.*token_urlsafe"):
        load_settings()
    monkeypatch.setenv("METRICS_TOKEN", secrets.token_urlsafe(48))
    assert load_settings().metrics_token
