"""Item photos (issue 30): what making the images of one upload costs, and what Pillow adds
to an import.

`python bench/bench_photos.py [--runs 7]` (no database, no S3): a 4000x3000 JPEG as a
phone takes one (noise over a gradient, so it compresses like a photo: a few MB; EXIF
orientation and GPS), and a 4000x3000 PNG; `catalog.photos.make_images` timed on each
(median wall time; the first run of a fresh process apart, as a Lambda's first upload pays
Pillow's import). Then, each in a fresh interpreter, `import app` (must not load PIL) and
`import PIL.Image`.
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def phone_jpeg(width: int = 4000, height: int = 3000) -> bytes:
    from PIL import Image

    noise = Image.effect_noise((width, height), 40).convert("RGB")
    gradient = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    img = Image.blend(noise, gradient, 0.6)
    exif = Image.Exif()
    exif[0x0112] = 6
    exif[0x8825] = {1: "N", 2: (25.0, 2.0, 3.0), 3: "E", 4: (121.0, 30.0, 0.0)}
    out = io.BytesIO()
    img.save(out, "JPEG", quality=90, exif=exif)
    return out.getvalue()


def png(width: int = 4000, height: int = 3000) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.linear_gradient("L").resize((width, height)).convert("RGBA").save(out, "PNG")
    return out.getvalue()


FIRST = """
import sys, time
sys.path.insert(0, {root!r})
data = open({path!r}, "rb").read()
from chalicelib.catalog import photos
t = time.perf_counter()
photos.make_images(data, "image/jpeg")
print((time.perf_counter() - t) * 1000)
"""


def fresh(code: str) -> str:
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()


def import_ms(statement: str, runs: int) -> float:
    code = f"import time; t = time.perf_counter(); {statement}; print((time.perf_counter() - t) * 1000)"
    return statistics.median(float(fresh(code)) for _ in range(runs))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    from chalicelib.catalog import photos

    out: dict = {}
    for name, data, kind in (
        ("jpeg_4000x3000", phone_jpeg(), "image/jpeg"),
        ("png_4000x3000", png(), "image/png"),
    ):
        times = []
        for _ in range(args.runs):
            t = time.perf_counter()
            images = photos.make_images(data, kind)
            times.append((time.perf_counter() - t) * 1000)
        out[name] = {
            "bytes": len(data),
            "ms": statistics.median(times),
            "small_bytes": len(images["small"]),
            "medium_bytes": len(images["medium"]),
        }
    tmp = ROOT / ".cache" / "bench-photo.jpg"
    tmp.parent.mkdir(exist_ok=True)
    tmp.write_bytes(phone_jpeg())
    out["jpeg_first_in_fresh_process_ms"] = statistics.median(
        float(fresh(FIRST.format(root=str(ROOT), path=str(tmp)))) for _ in range(3)
    )
    tmp.unlink()
    loaded = json.loads(fresh("import app, json, sys; print(json.dumps('PIL' in sys.modules))"))
    out["import_app_loads_pil"] = loaded
    out["import_app_ms"] = import_ms("import app", args.runs)
    out["import_pil_image_ms"] = import_ms("import PIL.Image", args.runs)
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
