"""A static-files finder for plotly.js, served from the installed ``plotly`` package (no CDN, no
copy in the repository): the one file ``plotly/plotly.min.js`` is collected with the rest."""

from __future__ import annotations

from pathlib import Path

from django.contrib.staticfiles.finders import BaseFinder
from django.core.files.storage import FileSystemStorage

PATH = "plotly/plotly.min.js"


def _package_data() -> Path:
    import plotly

    return Path(plotly.__file__).parent / "package_data"


class PlotlyFinder(BaseFinder):
    def check(self, **kwargs):
        return []

    def find(self, path, find_all=False, **kwargs):
        if path != PATH:
            return [] if find_all else None
        found = str(_package_data() / "plotly.min.js")
        return [found] if find_all else found

    def list(self, ignore_patterns):
        yield "plotly.min.js", _PrefixedStorage(location=str(_package_data()))


class _PrefixedStorage(FileSystemStorage):
    prefix = "plotly"
