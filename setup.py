"""Build step that pyproject.toml cannot express: ship the top-level ``suites/`` folder (the source
of truth, kept where the project layout wants it) inside the package as ``gdbench/suites/``, so a
non-editable install (``pip install .``, a wheel) finds its suites from any folder. Editable
installs read ``suites/`` of the checkout directly (``gdbench.harness.suite.SUITES_DIR``)."""

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent


class BuildWithSuites(build_py):
    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        dst = Path(self.build_lib) / "gdbench" / "suites"
        self.mkpath(str(dst))
        for f in sorted((ROOT / "suites").glob("*.toml")):
            self.copy_file(str(f), str(dst / f.name))


setup(cmdclass={"build_py": BuildWithSuites})
