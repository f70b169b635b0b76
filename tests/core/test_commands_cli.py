"""Management commands outside scripts/run_demo.sh: a missing SECRET_KEY is one line saying what to set (no
traceback), MODE=DEV runs; counts are checked when the options are parsed."""
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

ROOT = Path(__file__).resolve().parents[2]


def _manage(*args, **env):
    clean = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/tmp"),
             "ENV_FILE": str(ROOT / "no-such.env"), **env}  # no .env, no SECRET_KEY, no MODE
    return subprocess.run([sys.executable, str(ROOT / "manage.py"), *args], cwd=ROOT, env=clean,
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("args", [("demo", "--help"), ("check",), ("fake_individuals", "--help")])
def test_no_secret_key_is_one_line_saying_what_to_set(args):
    result = _manage(*args)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr and "SECRET_KEY" in lines[0] and "MODE=DEV" in lines[0]


def test_development_mode_runs_without_secret_key():
    result = _manage("demo", "--help", MODE="DEV")
    assert result.returncode == 0, result.stderr
    assert "--admin-password" in result.stdout


@pytest.mark.parametrize("command, options", [
    ("fake_individuals", {"count": 0}),
    ("fake_individuals", {"count": -3}),
    ("fake_individuals", {"batch_size": 0}),
    ("fake_individuals", {"group_size": -1}),
    ("seed_locations", {"regions": 0}),
    ("seed_locations", {"villages": -2}),
])
def test_zero_or_negative_counts_are_refused_through_call_command(command, options):
    with pytest.raises(CommandError, match="at least 1|must not be negative"):
        call_command(command, stdout=io.StringIO(), **options)


@pytest.mark.parametrize("command, argv, message", [
    ("fake_individuals", ["--count", "0"], "argument --count: must be at least 1, got 0"),
    ("fake_individuals", ["--count", "-5"], "argument --count: must be at least 1, got -5"),
    ("fake_individuals", ["--batch-size", "0"], "argument --batch-size: must be at least 1, got 0"),
    ("fake_individuals", ["--group-size", "-1"], "argument --group-size: must not be negative, got -1"),
    ("fake_individuals", ["--count", "ten"], "argument --count: must be a whole number, got 'ten'"),
    ("seed_locations", ["--wards", "0"], "argument --wards: must be at least 1, got 0"),
    ("seed_locations", ["--districts", "-1"], "argument --districts: must be at least 1, got -1"),
])
def test_zero_or_negative_counts_are_refused_on_the_command_line(command, argv, message):
    with pytest.raises(CommandError) as refused:
        call_command(command, *argv, stdout=io.StringIO())
    assert message in str(refused.value)


def test_group_size_zero_keeps_its_meaning(db):
    call_command("seed_locations", stdout=io.StringIO())
    call_command("create_admin", stdout=io.StringIO())
    out = io.StringIO()
    call_command("fake_individuals", "--count", "3", "--group-size", "0", "--seed", "1", stdout=out, verbosity=0)
    assert "Created 3 individuals in 0 groups" in out.getvalue()
