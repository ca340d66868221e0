"""Build hook: ship the price catalog (data/pricing) inside the wheel as ``smsim/_catalog``."""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py


class BuildWithCatalog(build_py):
    def run(self):
        super().run()
        source = Path(__file__).parent / "data" / "pricing"
        if source.is_dir():
            target = Path(self.build_lib) / "smsim" / "_catalog"
            shutil.copytree(source, target, dirs_exist_ok=True)


setup(cmdclass={"build_py": BuildWithCatalog})
