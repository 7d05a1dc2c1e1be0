"""The files every map loads, copied next to it: no script or stylesheet from another host.

Where the npm packages are installed is the caller's business (the app passes its
``node_modules``): this module only knows which files of them a map needs.
"""

from __future__ import annotations

import shutil
from pathlib import Path

#: Files of ``assets/`` (next to every map) and where they are in the installed npm packages
#: (the directory the caller passes: the app's ``node_modules``, see ``package.json``).
ASSET_SOURCES: dict[str, str] = {
    "leaflet.js": "leaflet/dist/leaflet.js",
    "leaflet.css": "leaflet/dist/leaflet.css",
    # leaflet.css refers to these by relative URL (layer control icon, default marker).
    "images/layers.png": "leaflet/dist/images/layers.png",
    "images/layers-2x.png": "leaflet/dist/images/layers-2x.png",
    "images/marker-icon.png": "leaflet/dist/images/marker-icon.png",
    "images/marker-icon-2x.png": "leaflet/dist/images/marker-icon-2x.png",
    "images/marker-shadow.png": "leaflet/dist/images/marker-shadow.png",
}
ASSETS_DIR = "assets"


def copy_assets(source: Path, dest: Path) -> list[str]:
    """Copy the map assets from ``source`` (installed npm packages) into ``dest`` (``assets/``).

    :param source: the directory :data:`ASSET_SOURCES` paths are relative to.
    :raises FileNotFoundError: when an asset is missing (install the packages with ``npm ci``).
    :return: the copied file names, relative to ``dest``.
    """
    source = Path(source)
    missing = [src for src in ASSET_SOURCES.values() if not (source / src).is_file()]
    if missing:
        raise FileNotFoundError(
            f"map assets missing under {source}: {missing}; install them with `npm ci`"
        )
    for name, src in ASSET_SOURCES.items():
        target = dest / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source / src, target)
    return sorted(ASSET_SOURCES)
