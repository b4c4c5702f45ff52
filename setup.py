"""Builds hddnn._core by driving CMake in a persistent build folder (build/),
so an unchanged rebuild takes seconds. CMake writes the module straight into
python/hddnn, where an editable install imports it."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

ROOT = Path(__file__).resolve().parent


class CMakeExtension(Extension):
    def __init__(self, name):
        super().__init__(name, sources=[])


class CMakeBuild(build_ext):
    def run(self):
        build_dir = Path(os.environ.get("HDDNN_BUILD_DIR", ROOT / "build"))
        configure = ["cmake", "-S", str(ROOT), "-B", str(build_dir),
                     f"-DPython3_EXECUTABLE={sys.executable}"]
        configure += os.environ.get("HDDNN_CMAKE_ARGS", "").split()
        subprocess.run(configure, check=True)
        jobs = os.environ.get("HDDNN_JOBS", "2")
        subprocess.run(["cmake", "--build", str(build_dir), "-j", jobs], check=True)
        for ext in self.extensions:
            built = ROOT / "python" / "hddnn" / Path(self.get_ext_filename(ext.name)).name
            target = Path(self.get_ext_fullpath(ext.name))
            if built.resolve() != target.resolve():
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(built, target)


setup(ext_modules=[CMakeExtension("hddnn._core")], cmdclass={"build_ext": CMakeBuild})
