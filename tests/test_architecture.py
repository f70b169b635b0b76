"""Dependency direction: modules reach each other only through services, selectors and signals (import-linter
contract in pyproject.toml), and never read a sibling's tables by model name."""
import re
import subprocess
import sys
from pathlib import Path

from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent
GET_MODEL = re.compile(r"""get_model\(\s*["'](?P<app>\w+)["']""")


def test_import_linter_contract_is_kept():
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]


def test_no_module_reads_a_sibling_table_by_model_name():
    modules = set(settings.OPENIMIS_MODULES_ALL)
    found = []
    for module in sorted(modules):
        for path in (ROOT / module).glob("**/*.py") if (ROOT / module).is_dir() else []:
            if "migrations" in path.parts:
                continue  # migrations use the historical app registry on purpose
            for match in GET_MODEL.finditer(path.read_text()):
                if match["app"] != module and match["app"] in modules:
                    found.append(f"{path.relative_to(ROOT)} reads {match['app']}")
    assert not found, found
