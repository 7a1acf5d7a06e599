"""Build the compiled parts: every csrc/<stem>.pyx (the kernels) becomes microtf._kernels.<stem>,
and microtf/eager/_executor.pyx (the op call path) becomes microtf.eager._executor.

Environment switches (read at build time):
  MICROTF_DEBUG=1            bounds/wraparound checks on, -O0 -g
  MICROTF_NATIVE=1           add -march=native (the wheel then only runs on this CPU type)
  MICROTF_SANITIZE=address   add -fsanitize=address,undefined to compile and link

-ffast-math is never used: a shared object built with it flushes subnormals to zero for the whole
process (numpy included) as soon as it is loaded.
"""

import os
from glob import glob

import numpy
from Cython.Build import cythonize
from setuptools import Extension, setup


def _flag(name):
    return os.environ.get(name, "").strip() not in ("", "0")


DEBUG = _flag("MICROTF_DEBUG")
NATIVE = _flag("MICROTF_NATIVE")
SANITIZE = os.environ.get("MICROTF_SANITIZE", "").strip()

compile_args = ["-O0", "-g"] if DEBUG else ["-O3"]
link_args = []
if NATIVE:
    compile_args.append("-march=native")
if SANITIZE:
    if SANITIZE != "address":
        raise SystemExit(f"MICROTF_SANITIZE: only 'address' is supported, got {SANITIZE!r}")
    san = ["-fsanitize=address,undefined", "-fno-omit-frame-pointer"]
    compile_args += san
    link_args += san

directives = {
    "language_level": 3,
    "boundscheck": DEBUG,
    "wraparound": DEBUG,
    "cdivision": True,
    "initializedcheck": DEBUG,
    "embedsignature": True,
}

sources = sorted(glob(os.path.join("csrc", "*.pyx")))
if not sources:
    raise SystemExit("setup.py: no csrc/*.pyx found; run it from the repository root")
modules = [("microtf._kernels." + os.path.splitext(os.path.basename(src))[0], src)
           for src in sources]
modules.append(("microtf.eager._executor", os.path.join("microtf", "eager", "_executor.pyx")))
extensions = [
    Extension(
        module,
        [src],
        include_dirs=[numpy.get_include(), "csrc"],
        define_macros=[("NPY_NO_DEPRECATED_API", "NPY_2_0_API_VERSION")],
        extra_compile_args=compile_args,
        extra_link_args=link_args,
    )
    for module, src in modules
]

setup(
    ext_modules=cythonize(
        extensions,
        compiler_directives=directives,
        include_path=["csrc"],
        # Generated C goes under build/, one directory per mode, so that a debug build never
        # reuses C generated without bounds checks (cythonize only compares timestamps).
        build_dir=os.path.join("build", "cython-debug" if DEBUG else "cython"),
    ),
)
