"""The download of a tile-cache result (``tilePackage=false``) into its folder.

One archive is downloaded and unpacked, or the listed files are downloaded one by one (files already
there are kept for a resume); the folder is then laid out with ``conf.xml`` at the top and verified.
The staging folder and archive have names of our own (:func:`~.names.cache_download_paths`), stable so
a resume finds them.
"""
from __future__ import annotations

import logging
import shutil
from pathlib import Path
from typing import Any, Callable

from . import names
from .download import CHUNK_SIZE, DownloadProgress, DownloadState, download, looks_presigned
from .errors import PackageError
from .exportstore import DONE, DOWNLOADING, PartRecord
from .http import CancelToken, check_cancel
from .levels import format_levels
from .packages.cachefolder import lay_out_cache, storage_name, unpack_archive, verify_cache
from .tilecache import ResultFile, is_archive_url

LOG = logging.getLogger(__name__)
COMPACT_V1 = "esriMapCacheStorageModeCompact"  # what a record without storageFormatType was exported as

# (fraction of the download or None, message, bytes done, bytes in all or None)
CacheProgress = Callable[[Any, str, int, Any], None]


def download_cache(session: Any, record: PartRecord, *, save: Callable[[PartRecord], None], progress: CacheProgress,
                   cancel: CancelToken | None = None, chunk_size: int = CHUNK_SIZE) -> list[Path]:
    """The tile cache of ``record`` into the folder ``record.output_path`` (see the module doc); the record
    is saved with ``save`` as the download goes and marked DONE at the end."""
    record.state = DOWNLOADING
    files = [ResultFile.from_dict(d) for d in record.result_files if isinstance(d, dict)] or [
        ResultFile(u.split("?", 1)[0].rsplit("/", 1)[-1], u) for u in record.result_urls]
    target = Path(record.output_path)
    staging, archive_path = names.cache_download_paths(target)
    states = {d.get("url"): DownloadState.from_dict(d) for d in record.downloads if isinstance(d, dict)}
    sizes = [f.size for f in files]
    total = sum(s for s in sizes if s) if all(s is not None for s in sizes) else None
    done_before = 0

    def on_state(st: DownloadState) -> None:
        states[st.url] = st
        record.downloads = [s.to_dict() for s in states.values() if not s.complete]
        save(record)

    def on_progress(p: DownloadProgress) -> None:
        done = done_before + p.bytes_done
        whole = total if total else (p.total if len(files) == 1 else None)
        mb = f"{done / 1e6:.1f} MB" + (f" of {whole / 1e6:.1f} MB" if whole else "")
        progress(done / whole if whole else None, f"Downloading the tile cache: {mb}", done, whole)

    def fetch(f: ResultFile, dest: Path, verify_zip: bool) -> Path:
        return download(session, f.url, dest, state=states.get(f.url), presigned=looks_presigned(f.url),
                        progress=on_progress, on_state=on_state, cancel=cancel, chunk_size=chunk_size,
                        verify_zip=verify_zip)

    archive: Path | None = None
    if len(files) == 1 and is_archive_url(files[0].path):
        archive = archive_path
        if not archive.is_file():
            fetch(files[0], archive, True)
        if staging.exists():
            shutil.rmtree(staging)
        try:
            unpack_archive(archive, staging)
        except PackageError:
            archive.unlink(missing_ok=True)  # damaged: the retry downloads it again
            raise
    else:
        staging.mkdir(parents=True, exist_ok=True)
        for f in files:
            check_cancel(cancel)
            dest = staging.joinpath(*f.path.split("/"))
            if not (dest.is_file() and (f.size is None or dest.stat().st_size == f.size)):
                fetch(f, dest, False)
                if f.size is not None and dest.stat().st_size != f.size:
                    dest.unlink()
                    raise PackageError(path=f.path, reason=f"it has {dest.stat().st_size if dest.exists() else 0} "
                                       f"bytes instead of the {f.size} the server listed")
            done_before += dest.stat().st_size
    lay_out_cache(staging, target)
    storage = storage_name(str(record.params.get("storageFormatType") or COMPACT_V1))
    try:
        summary = verify_cache(target, levels=record.levels or None, storage=storage)
    except PackageError:
        shutil.rmtree(target, ignore_errors=True)
        raise
    if archive is not None:
        archive.unlink(missing_ok=True)
    LOG.info("Tile cache %s: %d tiles at levels %s (%s)", target.name, summary.tile_count,
             format_levels(sorted(summary.levels)), summary.storage)
    record.downloads = []
    record.output_paths = [str(target)]
    record.state = DONE
    record.set_error(None)
    save(record)
    return [target]
