"""A non-editable install works from any folder: build the wheel, install it into a fresh venv and
run the ``ci`` suite from an empty temporary folder, with the suites and the report's assets coming
from the wheel. To stay fast and offline, the venv sees this interpreter's packages (numba, numpy,
...: ``--system-site-packages``, plus this venv's site-packages when the tests run in one) and the
wheel is installed with ``--no-deps``; the test checks that the venv imports the installed
gdbench, not the source tree."""

import os
import shutil
import site
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _run(cmd, **kw):
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=600, **kw)
    assert r.returncode == 0, f"{cmd}\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}"
    return r


def test_wheel_install_runs_the_ci_suite_from_an_empty_folder(tmp_path):
    pytest.importorskip("setuptools", minversion="68")
    src = tmp_path / "src"  # a clean copy: no build/ left over from another build
    src.mkdir()
    for name in ("pyproject.toml", "setup.py", "MANIFEST.in", "README.md"):
        shutil.copy2(ROOT / name, src / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(ROOT / "gdbench", src / "gdbench", ignore=ignore)
    shutil.copytree(ROOT / "suites", src / "suites", ignore=ignore)
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-q",
          "-w", str(tmp_path / "dist"), str(src)])
    [wheel] = list((tmp_path / "dist").glob("gdbench-*.whl"))

    env_dir = tmp_path / "venv"
    venv.EnvBuilder(system_site_packages=True, with_pip=False).create(env_dir)
    py = env_dir / "bin" / "python"
    _run([sys.executable, "-m", "pip", "--python", str(py), "install", "--no-deps", "--no-index", "-q", str(wheel)])
    if sys.prefix != sys.base_prefix:  # this interpreter is a venv: let the new one see its packages
        purelib = _run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).stdout.strip()
        outer = {sysconfig.get_paths()["purelib"], *site.getsitepackages()}
        Path(purelib, "_outer_packages.pth").write_text("\n".join(sorted(outer)) + "\n")

    empty = tmp_path / "empty"
    empty.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    where = _run([str(py), "-c", "import gdbench; print(gdbench.__file__)"], cwd=empty, env=env).stdout.strip()
    assert Path(where).resolve().is_relative_to(env_dir.resolve()), where
    gd = str(env_dir / "bin" / "gdbench")
    listed = _run([gd, "list", "suites"], cwd=empty, env=env).stdout
    assert all(s in listed for s in ("ci", "quick", "standard", "tutorial", "saddle"))
    _run([gd, "run", "ci", "--quiet", "--no-figures"],
         cwd=empty, env=env)
    out = empty / "results" / "ci"
    assert (out / "summary.md").read_text().startswith("# gdbench results: suite `ci`")
    assert "uPlot" in (out / "report.html").read_text()  # the assets came with the wheel
    assert sorted(p.name for p in empty.iterdir()) == ["results"]
