"""docker-compose.yml checked without a Docker engine: the services, their commands (the
ones `python -m webapp.serve` runs), health checks, shared state and the GPU profile."""

import re
import subprocess
from pathlib import Path

import pytest
import yaml

from webapp import serve

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def launched_argv(monkeypatch, start, *args) -> list[str]:
    """The argv serve.py would start, without starting it."""
    seen = {}

    def fake_popen(argv, **kwargs):
        seen["argv"] = argv
        return None

    monkeypatch.setattr(serve.subprocess, "Popen", fake_popen)
    monkeypatch.setattr(serve, "worker_queues", lambda: "celery")
    start(*args)
    return [a for a in seen["argv"]]


def after_python(argv: list[str]) -> list[str]:
    """`python -m daphne ...` → ["daphne", ...]: the part that names the program."""
    i = argv.index("-m")
    return argv[i + 1:]


def test_the_services_of_a_department_deployment_are_there(compose):
    assert {"web", "worker", "redis", "postgres", "gpu-worker"} <= set(compose["services"])


def test_the_web_service_runs_what_serve_py_runs(compose, monkeypatch):
    expected = after_python(launched_argv(monkeypatch, serve.start_web, {}, "0.0.0.0", 8000))
    command = " ".join(compose["services"]["web"]["command"])
    assert "manage.py migrate --noinput" in command
    daphne = command.split("python -m ", 1)[1].split()
    assert daphne[0] == expected[0] == "daphne" and daphne[-1] == expected[-1] == "webapp.asgi:application"
    flags = dict(zip(daphne[1:-1:2], daphne[2:-1:2]))
    assert flags["-b"] == "0.0.0.0" and flags["-p"] == "8000"
    assert compose["services"]["web"]["ports"] == ["8000:8000"]


@pytest.mark.parametrize("service, queues", [("worker", "celery"), ("gpu-worker", "gpu,celery")])
def test_workers_run_what_serve_py_runs_on_their_queues(compose, monkeypatch, service, queues):
    expected = after_python(launched_argv(monkeypatch, serve.start_worker, {}))
    command = compose["services"][service]["command"]
    assert command[:3] == ["python", "-m", "celery"]
    got = command[3:]
    for flag in ("-A", "-P"):
        assert got[got.index(flag) + 1] == expected[expected.index(flag) + 1], flag
    assert got[got.index("-Q") + 1] == queues
    for flag in ("--without-gossip", "--without-mingle"):
        assert flag in got and flag in expected
    assert "worker" in got


def test_every_service_has_a_health_check_and_the_app_waits_for_its_dependencies(compose):
    services = compose["services"]
    for name in ("web", "worker", "gpu-worker", "redis", "postgres"):
        assert services[name].get("healthcheck", {}).get("test"), name
    assert "/healthz" in " ".join(services["web"]["healthcheck"]["test"])
    for name in ("web", "worker", "gpu-worker"):
        assert services[name]["depends_on"] == {"postgres": {"condition": "service_healthy"},
                                                "redis": {"condition": "service_healthy"}}


def test_web_and_workers_share_database_broker_media_and_secret(compose):
    services = compose["services"]
    envs = [services[n]["environment"] for n in ("web", "worker", "gpu-worker")]
    assert all(e == envs[0] for e in envs)
    env = envs[0]
    assert re.match(r"postgres://[^@]+@postgres:5432/", env["DATABASE_URL"])
    assert env["REDIS_URL"].startswith("redis://redis:6379/")
    assert env["DEBUG"] == "false" and "SECRET_KEY" in env
    volumes = [services[n]["volumes"] for n in ("web", "worker", "gpu-worker")]
    assert all("media:/data/media" in v for v in volumes)
    assert set(compose["volumes"]) >= {"media", "pgdata"}


def test_the_gpu_worker_is_a_profile_with_a_cuda_build_and_a_gpu_reservation(compose):
    gpu = compose["services"]["gpu-worker"]
    assert gpu["profiles"] == ["gpu"]
    assert "cu" in gpu["build"]["args"]["TORCH_INDEX"]
    devices = gpu["deploy"]["resources"]["reservations"]["devices"]
    assert devices[0]["capabilities"] == ["gpu"] and devices[0]["driver"] == "nvidia"
    assert all("profiles" not in compose["services"][n] for n in ("web", "worker", "redis", "postgres"))


def test_the_image_collects_static_files_outside_the_data_volume():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "collectstatic" in dockerfile and "DESCENT_STATIC_ROOT=/app/static" in dockerfile
    assert "DEBUG=false" in dockerfile


def test_docker_compose_config_accepts_the_file_where_docker_is_installed(tmp_path):
    docker = subprocess.run(["sh", "-c", "command -v docker"], capture_output=True, text=True).stdout.strip()
    if not docker or subprocess.run([docker, "compose", "version"], capture_output=True).returncode != 0:
        pytest.skip("no docker compose on this machine (the checks above parse the file instead)")
    r = subprocess.run([docker, "compose", "-f", str(ROOT / "docker-compose.yml"), "config", "-q"],
                       env={"SECRET_KEY": "x", "PATH": "/usr/bin:/bin"}, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
