"""`chalice`, with compiled bytecode in the Lambda zip: `python scripts/chalice_pyc.py ARGS`.

Lambda's code folder (/var/task) is read-only, so a zip without `.pyc` files makes every
cold start compile every module of the app and its dependencies again (issue 16:
import CPU 1.32 s without vs 0.41 s with compiled files). Chalice 1.34 zips sources only.
This wrapper runs the chalice CLI unchanged, except that every Lambda deployment package
it builds (for `deploy` and `package` alike) gets, next to each `.py`, a
`__pycache__/NAME.cpython-3XY.pyc` compiled by this Python.

- The bytecode is for the Python running this script, and refused unless that is the
  runtime Chalice puts in the template (it takes the runtime from this Python too), so
  the magic number always matches the Lambda runtime.
- Unchecked hash-based pycs (PEP 552): the interpreter loads them without comparing the
  source's mtime, which a zip does not carry reliably and which never changes in Lambda.
- Any `__pycache__` Chalice copied from the working tree (other Python versions, stale
  timestamp pycs) is dropped first, so running it twice on the cached zip is harmless.

It also leaves out Babel's CLDR data for the ~1,000 locales the app never formats in
(chalicelib/platform/currencies.LOCALES: English and Traditional Chinese, with their parents):
19.6 MiB of zip with them, 10 MiB without. The global data (currency digits, which
currencies are in use) stays whole. And Pillow's extensions and libraries the photo images
never load (PIL_LEFT_OUT).
"""

from __future__ import annotations

import importlib.util
import os
import posixpath
import sys
import zipfile
from importlib._bootstrap_external import _code_to_hash_pyc

RUNTIME = f"python{sys.version_info.major}.{sys.version_info.minor}"
LOCALE_DATA = "babel/locale-data/"
# chalicelib/platform/currencies.LOCALES and every locale CLDR falls back through for them
# (tests/integration/test_package.py formats money with the packaged Babel).
KEEP_LOCALES = {"root", "en", "zh", "zh_Hant", "zh_Hant_TW"}


# Pillow's parts the photo images never load (catalog/photos.make_images reads JPEG, PNG and
# WebP, turns and shrinks them, writes JPEG): AVIF, text (FreeType, HarfBuzz and the PNG and
# Brotli libraries only FreeType links), colour management, Tk, ImageMath, ImageMorph. Pillow
# imports each only when asked for it. 3.2 MB of zip (docs/performance.md, "Item photos").
PIL_LEFT_OUT = (
    "PIL/_avif.",
    "PIL/_imagingft.",
    "PIL/_imagingcms.",
    "PIL/_imagingtk.",
    "PIL/_imagingmath.",
    "PIL/_imagingmorph.",
    "pillow.libs/libavif-",
    "pillow.libs/libfreetype-",
    "pillow.libs/libharfbuzz-",
    "pillow.libs/libbrotlicommon-",
    "pillow.libs/libbrotlidec-",
    "pillow.libs/libpng16-",
    "pillow.libs/liblcms2-",
)


def kept(name: str) -> bool:
    if name.startswith(PIL_LEFT_OUT):
        return False
    if not name.startswith(LOCALE_DATA):
        return True
    return name[len(LOCALE_DATA) :].removesuffix(".dat") in KEEP_LOCALES or not name.endswith(".dat")


def pyc_name(source_name: str) -> str:
    folder, base = posixpath.split(source_name)
    return posixpath.join(folder, "__pycache__", f"{base[:-3]}.{sys.implementation.cache_tag}.pyc")


def add_bytecode(zip_path: str, runtime: str) -> int:
    """Rewrite the zip with a compiled file next to every module; returns how many."""
    if runtime != RUNTIME:
        raise SystemExit(
            f"chalice_pyc: the Lambda runtime is {runtime} but this is {RUNTIME}: "
            "bytecode must be compiled by the runtime's Python version"
        )
    tmp = zip_path + ".pyc.tmp"
    compiled = 0
    with zipfile.ZipFile(zip_path) as src, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as out:
        for info in src.infolist():
            name = info.filename
            if name.endswith(".pyc") or "__pycache__/" in name or not kept(name):
                continue
            data = src.read(info)
            out.writestr(info, data)
            if not name.endswith(".py"):
                continue
            try:
                code = compile(data, "/var/task/" + name, "exec", dont_inherit=True, optimize=0)
            except (SyntaxError, ValueError):
                continue  # a file a package ships but never imports (templates, py2 leftovers)
            pyc = _code_to_hash_pyc(code, importlib.util.source_hash(data), checked=False)
            entry = zipfile.ZipInfo(pyc_name(name), date_time=info.date_time)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = info.external_attr
            out.writestr(entry, bytes(pyc))
            compiled += 1
    os.replace(tmp, zip_path)
    return compiled


def patch_chalice() -> None:
    from chalice.deploy import packager

    original = packager.LambdaDeploymentPackager.create_deployment_package

    def create_deployment_package(self, project_dir: str, python_version: str) -> str:
        filename = original(self, project_dir, python_version)
        count = add_bytecode(filename, python_version)
        self._ui.write(f"Compiled {count} modules for {python_version} into the package.\n")
        return filename

    packager.LambdaDeploymentPackager.create_deployment_package = create_deployment_package


def main() -> int:
    patch_chalice()
    if "package" in sys.argv[1:]:
        # A SAM template cannot add an event notification to an existing bucket (Chalice
        # refuses on_s3_event there): app.py leaves the photo trigger out of `package`;
        # `chalice deploy` (make deploy) wires it (docs/deploy.md, "Photos").
        os.environ["CHALICE_SAM_PACKAGE"] = "1"
    from chalice.cli import main as chalice_main

    sys.argv[0] = "chalice"
    return chalice_main()


if __name__ == "__main__":
    sys.exit(main())
