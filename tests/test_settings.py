"""The settings file, run in a fresh interpreter with a chosen environment."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def load_settings(**env):
    clean = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DEBUG", "DATABASE_URL"}}
    clean.update(env)
    code = "import clinic.settings as s; print(s.DATABASES['default']['ENGINE'], s.DEBUG, s.TIME_ZONE, s.USE_TZ)"
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=clean, capture_output=True, text=True)


def test_refuses_to_start_without_secret_key_when_debug_is_off():
    result = load_settings(DEBUG="0")
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_debug_uses_a_development_key_and_sqlite_by_default():
    result = load_settings(DEBUG="1")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["django.db.backends.sqlite3", "True", "Europe/London", "True"]


def test_database_url_selects_postgresql():
    result = load_settings(SECRET_KEY="x" * 50, DATABASE_URL="postgres://postgres@127.0.0.1:5432/anything")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[:2] == ["django.db.backends.postgresql", "False"]


def run_manage(*args, **env):
    clean = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DEBUG", "DATABASE_URL"}}
    clean.update(env)
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=clean, capture_output=True, text=True)


def test_code_inspecting_commands_need_no_secret_key():
    result = run_manage("makemigrations", "--check", "--dry-run")
    assert (result.returncode, result.stdout.strip()) == (0, "No changes detected"), result.stderr


def test_deploy_check_still_needs_a_secret_key():
    result = run_manage("check", "--deploy")
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr
