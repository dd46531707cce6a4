"""docker-compose.yml, the Dockerfile and the start script agree with the app (no Docker engine
here: the files are parsed and checked against the settings and the CLI)."""

from __future__ import annotations

import os
import re
import secrets
from pathlib import Path

import pytest
import yaml

from chatapp.cli import build_parser
from chatapp.core.config import Settings, load_settings

ROOT = Path(__file__).resolve().parents[2]
SERVICES = {"app", "api", "postgres", "redis", "qdrant"}
DEPENDENCIES = {"postgres", "redis"}  # qdrant is an optional profile


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def env_names(path: Path) -> set[str]:
    """Names set or commented out (`# NAME=` or listed) in an env example file."""
    return set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", path.read_text(), re.M)) | set(
        re.findall(r"\b([A-Z][A-Z0-9_]{3,})\b", path.read_text())
    )


def interpolate(value: str, env: dict[str, str]) -> str:
    """Compose's ${NAME}, ${NAME:-default} and ${NAME:?error}."""

    def one(match: re.Match) -> str:
        name, op, arg = match.group(1), match.group(2) or "", match.group(3) or ""
        if env.get(name):
            return env[name]
        if op == ":?":
            raise KeyError(f"{name}: {arg}")
        return arg

    return re.sub(r"\$\{([A-Z0-9_]+)(?:(:-|:\?)([^}]*))?\}", one, str(value))


def test_every_service_has_a_health_check_and_a_named_volume(compose):
    services = compose["services"]
    assert set(services) == SERVICES
    declared = set(compose["volumes"])
    for name, service in services.items():
        check = service["healthcheck"]["test"]
        assert check and check[0] in ("CMD", "CMD-SHELL"), name
        mounts = [v.split(":")[0] for v in service["volumes"]]
        assert mounts and all(m in declared for m in mounts), f"{name}: named volumes only"
        assert service.get("restart") == "unless-stopped"
    assert "/api/health" in " ".join(services["app"]["healthcheck"]["test"])
    assert any(v.endswith(":/app/data") for v in services["app"]["volumes"])
    assert any(v.endswith(":/var/lib/postgresql/data") for v in services["postgres"]["volumes"])
    assert services["postgres"]["image"].startswith("postgres:15")
    assert services["redis"]["image"].startswith("redis:7")


def test_the_app_waits_for_healthy_dependencies(compose):
    depends = compose["services"]["app"]["depends_on"]
    assert {name: d["condition"] for name, d in depends.items()} == {
        name: "service_healthy" for name in DEPENDENCIES
    }
    assert compose["services"]["qdrant"]["profiles"] == ["qdrant"]


def test_the_visitors_api_runs_as_its_own_service(compose):
    """`api` serves the widget's routes with the product's own command, after the app migrated."""
    api, app = compose["services"]["api"], compose["services"]["app"]
    assert api["environment"] == app["environment"] and api["image"] == app["image"]
    assert api["depends_on"] == {"app": {"condition": "service_healthy"}}
    command = api["command"]
    assert command[:3] == ["python", "-m", "chatapp"]
    args = build_parser().parse_args(command[3:])
    assert args.command == "serve-api" and args.port == 8000 and args.workers >= 1
    assert "8000/api/health" in " ".join(api["healthcheck"]["test"])


def test_the_app_environment_points_at_the_services_and_is_accepted(compose, monkeypatch):
    app = compose["services"]["app"]
    assert app["env_file"] == ".env"
    given = {"POSTGRES_PASSWORD": "pw", "PUBLIC_URL": "https://chat.example.com"}
    env = {name: interpolate(value, given) for name, value in app["environment"].items()}
    assert env["DATABASE_URL"] == "postgresql://chatapp:pw@postgres:5432/chatapp"
    assert env["REDIS_URL"].startswith("redis://redis:6379/")
    assert env["REFLEX_REDIS_URL"].startswith("redis://redis:6379/")
    assert env["REDIS_URL"] != env["REFLEX_REDIS_URL"]  # Reflex state apart from our keys
    assert env["QDRANT_URL"] == ""  # vectors in PostgreSQL unless the qdrant profile is used
    assert interpolate(app["environment"]["QDRANT_URL"], {"QDRANT_URL": "http://qdrant:6333"})
    assert env["CHATAPP_ENV"] == "production"
    postgres = compose["services"]["postgres"]["environment"]
    assert (postgres["POSTGRES_USER"], postgres["POSTGRES_DB"]) == ("chatapp", "chatapp")
    with pytest.raises(KeyError, match="POSTGRES_PASSWORD"):
        interpolate(app["environment"]["DATABASE_URL"], {})
    # production refuses to start without SECRET_KEY, which only the env file provides
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(Exception, match="SECRET_KEY"):
        load_settings()
    monkeypatch.setenv("SECRET_KEY", secrets.token_urlsafe(48))
    settings = load_settings()
    assert settings.is_production and settings.cookie_secure
    assert settings.database_url.startswith("postgresql://") and not settings.qdrant_url


def test_every_setting_is_set_by_compose_or_documented():
    compose_env = set(
        yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]["app"]["environment"]
    )
    documented = env_names(ROOT / ".env.example") | env_names(ROOT / ".env.production.example")
    settings = {name.upper() for name in Settings.model_fields}
    missing = sorted(settings - compose_env - documented)
    assert not missing, f"settings neither set in docker-compose.yml nor documented: {missing}"
    required = {"SECRET_KEY", "POSTGRES_PASSWORD", "PUBLIC_URL"}
    assert required <= env_names(ROOT / ".env.production.example")
    assert "REFLEX_REDIS_URL" in compose_env


def test_the_dockerfile_builds_in_two_stages_and_runs_as_a_user():
    text = (ROOT / "Dockerfile").read_text()
    stages = re.findall(r"^FROM\s+(\S+)(?:\s+AS\s+(\S+))?", text, re.M)
    assert len(stages) == 2 and stages[1][0].startswith("python:3.11-slim")
    assert "node widget/build.mjs" in text and "reflex export --frontend-only" in text
    assert "npm ci" in text and "pip install" in text
    assert re.search(r"^USER\s+(?!root)\S+", text, re.M)
    assert re.search(r"^HEALTHCHECK .*\n?.*?/api/health", text, re.M)
    assert re.search(r"^EXPOSE 3000$", text, re.M)
    cmd = re.search(r'^CMD \["\./(scripts/\S+)"\]', text, re.M)
    script = ROOT / cmd.group(1)
    assert script.exists() and os.access(script, os.X_OK)
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".env", "data", ".venv", "node_modules"} <= set(ignored)


def test_the_start_script_migrates_then_serves_with_real_commands():
    lines = [
        line.strip()
        for line in (ROOT / "scripts" / "serve.sh").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    commands = [line.split()[3] for line in lines if line.startswith("python -m chatapp ")]
    known = build_parser()._subparsers._group_actions[0].choices
    assert commands and all(c in known for c in commands), commands
    serve = next(i for i, line in enumerate(lines) if line.startswith("exec reflex run"))
    migrate = lines.index("python -m chatapp migrate")
    assert migrate < serve and "--env prod --single-port" in lines[serve]
