"""MBTiles and GeoPackage tile writers (sqlite3, streaming, atomic).

Both write into ``<dst>.part`` with ``journal_mode=OFF`` / ``synchronous=OFF`` inside one
transaction (rows go in with ``executemany`` batches and ``INSERT OR IGNORE`` so the first copy of
a tile wins and duplicates are counted), then commit, switch back to a normal journal, close,
``fsync`` and rename onto ``<dst>``.  Nothing is ever left under the final name half-written; on
error or cancel the ``.part`` file is removed.

Free space is checked before the ``.part`` file is created (:func:`check_free_space`, from the
caller's estimate) and again after every batch of rows: a conversion stops with :class:`DiskError`
while :data:`DISK_MARGIN` is still free, instead of filling the disk the user's other work is on.
"""
from __future__ import annotations

import contextlib
import hashlib
import logging
import math
import os
import shutil
import sqlite3
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path
from xml.sax.saxutils import escape

from ..errors import DiskError

log = logging.getLogger(__name__)

PAGE_SIZE = 65536  # fewer, fuller pages: tiles of a few KB pack several to a page
# Rows per INSERT … VALUES (…), (…): a statement's fixed cost (binding, the program's start and end,
# and a GeoPackage's AUTOINCREMENT bookkeeping) is paid once for 50 tiles instead of once per tile,
# 2.2 µs of processor time per GeoPackage tile instead of 3.2.  200 parameters: well below the 999
# that the oldest sqlite allows a statement.
ROWS_PER_STATEMENT = 50
# sqlite's page cache: small while the output is small (a small merge does not pay for faulting in
# and filling 8 MB), grown once it holds a bundle's worth of tiles, when the unique index's pages
# start to leave a small cache and come back (a 2 MB cache all along costs a 10^6-tile merge 20 %)
CACHE_KB_SMALL = 2048
CACHE_KB = 8192
CACHE_GROW_ROWS = 16384
PAYLOAD_DIGEST_BYTES = 16  # 128-bit hash names a shared payload: a collision is out of reach

# OGC WKT of the two CRSs the pure core knows by heart (the definitions GDAL writes into a GeoPackage)
WKT_4326 = (
    'GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563,AUTHORITY["EPSG","7030"]],'
    'AUTHORITY["EPSG","6326"]],PRIMEM["Greenwich",0,AUTHORITY["EPSG","8901"]],UNIT["degree",'
    '0.0174532925199433,AUTHORITY["EPSG","9122"]],AXIS["Latitude",NORTH],AXIS["Longitude",EAST],'
    'AUTHORITY["EPSG","4326"]]')
WKT_3857 = (
    'PROJCS["WGS 84 / Pseudo-Mercator",GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,'
    '298.257223563,AUTHORITY["EPSG","7030"]],AUTHORITY["EPSG","6326"]],PRIMEM["Greenwich",0,'
    'AUTHORITY["EPSG","8901"]],UNIT["degree",0.0174532925199433,AUTHORITY["EPSG","9122"]],'
    'AUTHORITY["EPSG","4326"]],PROJECTION["Mercator_1SP"],PARAMETER["central_meridian",0],'
    'PARAMETER["scale_factor",1],PARAMETER["false_easting",0],PARAMETER["false_northing",0],'
    'UNIT["metre",1,AUTHORITY["EPSG","9001"]],AXIS["Easting",EAST],AXIS["Northing",NORTH],'
    'EXTENSION["PROJ4","+proj=merc +a=6378137 +b=6378137 +lat_ts=0 +lon_0=0 +x_0=0 +y_0=0 +k=1 '
    '+units=m +nadgrids=@null +wktext +no_defs"],AUTHORITY["EPSG","3857"]]')
BUILTIN_WKT = {4326: WKT_4326, 3857: WKT_3857}
ZOOM_OTHER = "gpkg_zoom_other"


# Free space that a conversion never uses.  Space is checked after each batch of rows, and one batch
# (convert.BATCH_BYTES, 32 MB) plus sqlite's page cache (8 MB at most) may be written before the next check:
# 64 MB keeps that within what is left, with room to spare for the system and other programs.
DISK_MARGIN = 64 * 1024 * 1024
# Output size from the tile bytes: rows, 64 KB pages and the unique index add ~6 % (measured on
# 53,000 tiles of 1-12 KB, MBTiles and GeoPackage); an empty file is ~1 MB.  Rounded up.
OUTPUT_OVERHEAD = 0.15
OUTPUT_PER_TILE = 512
OUTPUT_FIXED = 2 * 1024 * 1024


def _disk_error(exc: BaseException, path: Path) -> DiskError:
    return DiskError(reason=f"{path}: {exc}", details=repr(exc))


def estimate_output(tile_bytes: int, tiles: int) -> int:
    """Bytes an MBTiles or GeoPackage holding ``tiles`` tiles of ``tile_bytes`` in all may take."""
    return int(tile_bytes * (1 + OUTPUT_OVERHEAD)) + tiles * OUTPUT_PER_TILE + OUTPUT_FIXED


def _free_bytes(folder: Path) -> int | None:
    try:
        return shutil.disk_usage(folder).free
    except OSError:  # a folder the OS cannot tell about: let the writes themselves fail, if they do
        return None


def _mb(value: int) -> str:
    return f"{value / 1e6:.1f} MB"


def check_free_space(folder: Path, needed: int) -> None:
    """Raise :class:`DiskError` unless ``folder`` has ``needed`` bytes free plus :data:`DISK_MARGIN`."""
    free = _free_bytes(folder)
    if free is not None and free < needed + DISK_MARGIN:
        raise DiskError(reason=f"the conversion needs about {_mb(needed + DISK_MARGIN)} free in {folder} "
                        f"(the output plus a {_mb(DISK_MARGIN)} margin) but only {_mb(free)} are free")


class TileSink:
    """Common part: the ``.part`` file, pragmas, batches, atomic finish."""

    insert_sql = ""

    def __init__(self, dst: Path, *, fsync: bool = True, expected_size: int = 0) -> None:
        self.dst = dst
        self.part = dst.with_name(dst.name + ".part")
        self.fsync = fsync
        self.inserted = 0
        self.expected_size = expected_size  # the caller's estimate of the output, for the space checks
        check_free_space(dst.parent, expected_size)
        try:
            self.part.unlink(missing_ok=True)
            self.conn = sqlite3.connect(str(self.part), isolation_level=None)
        except (OSError, sqlite3.Error) as exc:
            raise _disk_error(exc, self.part) from exc
        try:
            cur = self.conn.cursor()
            cur.execute(f"PRAGMA page_size={PAGE_SIZE}")
            cur.execute("PRAGMA journal_mode=OFF")
            cur.execute("PRAGMA synchronous=OFF")
            cur.execute("PRAGMA locking_mode=EXCLUSIVE")
            cur.execute("PRAGMA temp_store=MEMORY")
            cur.execute(f"PRAGMA cache_size=-{CACHE_KB_SMALL}")
            # the schema goes in with the tiles, in one transaction: created statement by statement
            # outside one, each table was written to the file on its own (a fixed cost of every merge)
            cur.execute("BEGIN")
            self.create_schema(cur)
        except sqlite3.Error as exc:
            self.abort()
            raise _disk_error(exc, self.part) from exc
        self._cur = self.conn.cursor()
        self._statements: dict[str, str] = {}  # one-row INSERT → its ROWS_PER_STATEMENT-row form
        self._cache_grown = False

    def create_schema(self, cur: sqlite3.Cursor) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def dedupe(self) -> None:
        """Make later :meth:`add` calls skip tiles already written (GeoPackage: always the case)."""

    def add(self, rows: list[tuple]) -> int:
        """Insert ``rows``; return how many were new (the others were duplicates)."""
        count = self._insert(self.insert_sql, rows)
        self.inserted += count
        if self.inserted >= CACHE_GROW_ROWS and not self._cache_grown:
            self._grow_cache()
        self._check_space()
        return count

    def _grow_cache(self) -> None:
        try:
            self._cur.execute(f"PRAGMA cache_size=-{CACHE_KB}")
        except sqlite3.Error as exc:
            raise _disk_error(exc, self.part) from exc
        self._cache_grown = True

    def _insert(self, sql: str, rows: list[tuple]) -> int:
        """Run the one-row ``INSERT … VALUES (?, …)`` ``sql`` for every row, :data:`ROWS_PER_STATEMENT`
        rows a statement; return how many rows went in (``INSERT OR IGNORE`` leaves duplicates out)."""
        whole = len(rows) - len(rows) % ROWS_PER_STATEMENT
        count = 0
        try:
            if whole:
                many = self._statements.get(sql)
                if many is None:
                    many = self._statements[sql] = sql + ("," + sql[sql.rindex("("):]) * (ROWS_PER_STATEMENT - 1)
                self._cur.executemany(many, [tuple(chain.from_iterable(rows[i:i + ROWS_PER_STATEMENT]))
                                             for i in range(0, whole, ROWS_PER_STATEMENT)])
                count += self._cur.rowcount if self._cur.rowcount >= 0 else whole  # very old sqlite3 modules
            if whole < len(rows):
                self._cur.executemany(sql, rows[whole:])
                count += self._cur.rowcount if self._cur.rowcount >= 0 else len(rows) - whole
        except sqlite3.Error as exc:
            raise _disk_error(exc, self.part) from exc
        return count

    def _check_space(self) -> None:
        """Stop while :data:`DISK_MARGIN` is still free (another program may be filling the disk too)."""
        free = _free_bytes(self.part.parent)
        if free is None or free >= DISK_MARGIN:
            return
        try:
            written = self.part.stat().st_size
        except OSError:
            written = 0
        more = max(self.expected_size - written, 0) + DISK_MARGIN
        raise DiskError(reason=f"the disk of {self.part.parent} is almost full ({_mb(free)} free) and the "
                        f"conversion needs about {_mb(more)} more; it was stopped before filling the disk")

    def write_metadata(self, cur: sqlite3.Cursor) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def finish(self) -> None:
        try:
            cur = self.conn.cursor()
            self.write_metadata(cur)
            cur.execute("COMMIT")
            cur.execute("PRAGMA journal_mode=DELETE")
            cur.execute("PRAGMA locking_mode=NORMAL")
            cur.execute("PRAGMA synchronous=FULL")
            cur.execute("SELECT count(*) FROM sqlite_master")  # releases the exclusive lock
            self.conn.close()
        except sqlite3.Error as exc:
            self.abort()
            raise _disk_error(exc, self.part) from exc
        try:
            if self.fsync:
                fd = os.open(self.part, os.O_RDONLY)
                try:
                    os.fsync(fd)
                finally:
                    os.close(fd)
            os.replace(self.part, self.dst)
        except OSError as exc:
            self.abort()
            raise _disk_error(exc, self.dst) from exc

    def abort(self) -> None:
        with contextlib.suppress(sqlite3.Error, AttributeError):
            self.conn.close()
        try:
            self.part.unlink(missing_ok=True)
        except OSError as exc:  # pragma: no cover - nothing more we can do
            log.warning("could not remove %s: %s", self.part, exc)


class MBTilesSink(TileSink):
    """MBTiles 1.3: ``metadata`` + ``tiles`` (TMS rows) with the unique ``tile_index``.

    The unique index is built after the first package's tiles are in (one package cannot hold the
    same tile twice, and building the index once is much cheaper than keeping it up to date);
    :meth:`dedupe` builds it earlier when more packages follow, whose rows then go in with
    ``INSERT OR IGNORE``.

    ``shared_payloads=True`` stores each distinct payload once: ``images`` (``tile_id`` = a hash
    of the bytes, ``tile_data``) and ``map`` (position → ``tile_id``) with a ``tiles`` view joining
    them, the layout MBTiles 1.3 allows and GDAL and QGIS read through the view.  Vector
    conversions use it: the stand-ins of a sparse package repeat (a square of sea, of one country).
    """

    insert_sql = "INSERT INTO tiles (zoom_level, tile_column, tile_row, tile_data) VALUES (?,?,?,?)"

    def __init__(self, dst: Path, *, fsync: bool = True, shared_payloads: bool = False,
                 expected_size: int = 0) -> None:
        self.metadata: dict[str, str] = {}
        self.shared = shared_payloads
        self.images = 0  # distinct payloads stored (shared_payloads only)
        self._indexed = False
        self._may_orphan = False
        if shared_payloads:
            self.insert_sql = "INSERT INTO map (zoom_level, tile_column, tile_row, tile_id) VALUES (?,?,?,?)"
        super().__init__(dst, fsync=fsync, expected_size=expected_size)

    def create_schema(self, cur: sqlite3.Cursor) -> None:
        cur.execute("CREATE TABLE metadata (name TEXT, value TEXT)")
        cur.execute("CREATE UNIQUE INDEX name ON metadata (name)")
        if not self.shared:
            cur.execute("CREATE TABLE tiles (zoom_level INTEGER, tile_column INTEGER, tile_row INTEGER, "
                        "tile_data BLOB)")
            return
        cur.execute("CREATE TABLE images (tile_id TEXT, tile_data BLOB)")
        cur.execute("CREATE UNIQUE INDEX images_id ON images (tile_id)")
        cur.execute("CREATE TABLE map (zoom_level INTEGER, tile_column INTEGER, tile_row INTEGER, tile_id TEXT)")
        cur.execute("CREATE VIEW tiles AS SELECT map.zoom_level AS zoom_level, map.tile_column AS tile_column, "
                    "map.tile_row AS tile_row, images.tile_data AS tile_data "
                    "FROM map JOIN images ON images.tile_id = map.tile_id")

    def add(self, rows: list[tuple]) -> int:
        if not self.shared:
            return super().add(rows)
        images = []
        placed = []
        for z, x, y, data in rows:
            tile_id = hashlib.blake2b(data, digest_size=PAYLOAD_DIGEST_BYTES).hexdigest()
            images.append((tile_id, data))
            placed.append((z, x, y, tile_id))
        self.images += self._insert("INSERT OR IGNORE INTO images (tile_id, tile_data) VALUES (?,?)", images)
        return super().add(placed)

    def dedupe(self) -> None:
        """From now on a tile already present is kept and the new copy ignored (and counted)."""
        if not self._indexed:
            index, table = ("map_index", "map") if self.shared else ("tile_index", "tiles")
            try:
                self._cur.execute(f"CREATE UNIQUE INDEX {index} ON {table} "  # fixed names
                                  "(zoom_level, tile_column, tile_row)")
            except sqlite3.Error as exc:
                raise _disk_error(exc, self.part) from exc
            self._indexed = True
            self._may_orphan = self.shared
            self.insert_sql = self.insert_sql.replace("INSERT INTO", "INSERT OR IGNORE INTO")

    def write_metadata(self, cur: sqlite3.Cursor) -> None:
        self.dedupe()
        if self._may_orphan:  # a payload whose position was already taken is referenced by nobody
            cur.execute("DELETE FROM images WHERE tile_id NOT IN (SELECT tile_id FROM map)")
            self.images -= max(cur.rowcount, 0)
        cur.executemany("INSERT OR REPLACE INTO metadata (name, value) VALUES (?, ?)",
                        sorted(self.metadata.items()))


@dataclass
class TileMatrix:
    zoom_level: int
    matrix_width: int
    matrix_height: int
    tile_width: int
    tile_height: int
    pixel_x_size: float
    pixel_y_size: float


@dataclass
class GpkgLayout:
    table: str
    identifier: str
    description: str
    srs_id: int
    srs_name: str
    organization: str
    organization_coordsys_id: int
    definition: str
    tms_box: tuple[float, float, float, float]  # min_x, min_y, max_x, max_y of the tile matrix set
    contents_box: tuple[float, float, float, float]
    matrices: list[TileMatrix]
    # what describes the source (name, levels, tile format…): GeoPackage metadata extension rows in
    # GDAL's own XML, so gdalinfo and QGIS's layer properties show them
    metadata: dict[str, str] = field(default_factory=dict)


class GpkgSink(TileSink):
    """GeoPackage 1.2 tiles: one user tile table with a custom tile matrix set."""

    def __init__(self, dst: Path, layout: GpkgLayout, *, fsync: bool = True, expected_size: int = 0) -> None:
        self.layout = layout
        # the table name is built from [A-Za-z0-9_] only (convert._table_name), never raw user text
        self.insert_sql = (f'INSERT OR IGNORE INTO "{layout.table}" (zoom_level, tile_column, tile_row, '  # noqa: S608
                           "tile_data) VALUES (?,?,?,?)")
        super().__init__(dst, fsync=fsync, expected_size=expected_size)

    def create_schema(self, cur: sqlite3.Cursor) -> None:
        lay = self.layout
        cur.execute("PRAGMA application_id=1196444487")  # 'GPKG'
        cur.execute("PRAGMA user_version=10200")
        cur.execute("""CREATE TABLE gpkg_spatial_ref_sys (
            srs_name TEXT NOT NULL, srs_id INTEGER NOT NULL PRIMARY KEY, organization TEXT NOT NULL,
            organization_coordsys_id INTEGER NOT NULL, definition TEXT NOT NULL, description TEXT)""")
        cur.execute("""CREATE TABLE gpkg_contents (
            table_name TEXT NOT NULL PRIMARY KEY, data_type TEXT NOT NULL, identifier TEXT UNIQUE,
            description TEXT DEFAULT '',
            last_change DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
            min_x DOUBLE, min_y DOUBLE, max_x DOUBLE, max_y DOUBLE, srs_id INTEGER,
            CONSTRAINT fk_gc_r_srs_id FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys(srs_id))""")
        cur.execute("""CREATE TABLE gpkg_tile_matrix_set (
            table_name TEXT NOT NULL PRIMARY KEY, srs_id INTEGER NOT NULL,
            min_x DOUBLE NOT NULL, min_y DOUBLE NOT NULL, max_x DOUBLE NOT NULL, max_y DOUBLE NOT NULL,
            CONSTRAINT fk_gtms_table_name FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name),
            CONSTRAINT fk_gtms_srs FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys (srs_id))""")
        cur.execute("""CREATE TABLE gpkg_tile_matrix (
            table_name TEXT NOT NULL, zoom_level INTEGER NOT NULL, matrix_width INTEGER NOT NULL,
            matrix_height INTEGER NOT NULL, tile_width INTEGER NOT NULL, tile_height INTEGER NOT NULL,
            pixel_x_size DOUBLE NOT NULL, pixel_y_size DOUBLE NOT NULL,
            CONSTRAINT pk_ttm PRIMARY KEY (table_name, zoom_level),
            CONSTRAINT fk_tmm_table_name FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name))""")
        cur.execute("""CREATE TABLE gpkg_extensions (
            table_name TEXT, column_name TEXT, extension_name TEXT NOT NULL, definition TEXT NOT NULL,
            scope TEXT NOT NULL, CONSTRAINT ge_tce UNIQUE (table_name, column_name, extension_name))""")
        cur.execute(f"""CREATE TABLE "{lay.table}" (
            id INTEGER PRIMARY KEY AUTOINCREMENT, zoom_level INTEGER NOT NULL,
            tile_column INTEGER NOT NULL, tile_row INTEGER NOT NULL, tile_data BLOB NOT NULL,
            UNIQUE (zoom_level, tile_column, tile_row))""")

    def write_metadata(self, cur: sqlite3.Cursor) -> None:
        lay = self.layout
        srs_rows = [
            ("Undefined cartesian SRS", -1, "NONE", -1, "undefined", "undefined cartesian coordinate reference system"),
            ("Undefined geographic SRS", 0, "NONE", 0, "undefined", "undefined geographic coordinate reference system"),
        ]
        if lay.srs_id != 4326:
            srs_rows.append(("WGS 84 geodetic", 4326, "EPSG", 4326, WKT_4326,
                             "longitude/latitude coordinates in decimal degrees on the WGS 84 spheroid"))
        srs_rows.append((lay.srs_name, lay.srs_id, lay.organization, lay.organization_coordsys_id,
                         lay.definition, None))
        cur.executemany("INSERT OR REPLACE INTO gpkg_spatial_ref_sys VALUES (?,?,?,?,?,?)", srs_rows)
        cur.execute("INSERT INTO gpkg_contents (table_name, data_type, identifier, description, min_x, min_y, "
                    "max_x, max_y, srs_id) VALUES (?, 'tiles', ?, ?, ?, ?, ?, ?, ?)",
                    (lay.table, lay.identifier, lay.description, *lay.contents_box, lay.srs_id))
        cur.execute("INSERT INTO gpkg_tile_matrix_set VALUES (?,?,?,?,?,?)", (lay.table, lay.srs_id, *lay.tms_box))
        cur.executemany("INSERT INTO gpkg_tile_matrix VALUES (?,?,?,?,?,?,?,?)",
                        [(lay.table, m.zoom_level, m.matrix_width, m.matrix_height, m.tile_width,
                          m.tile_height, m.pixel_x_size, m.pixel_y_size) for m in lay.matrices])
        if lay.metadata:
            self._write_gdal_metadata(cur, lay)
        if needs_zoom_other(lay.matrices):
            cur.execute("INSERT INTO gpkg_extensions VALUES (?, 'tile_data', ?, ?, 'read-write')",
                        (lay.table, ZOOM_OTHER, "http://www.geopackage.org/spec/#extension_zoom_other_intervals"))


    @staticmethod
    def _write_gdal_metadata(cur: sqlite3.Cursor, lay: GpkgLayout) -> None:
        """The GeoPackage metadata extension (GeoPackage 1.2, F.8) with GDAL's metadata document."""
        cur.execute("""CREATE TABLE gpkg_metadata (
            id INTEGER CONSTRAINT m_pk PRIMARY KEY ASC NOT NULL, md_scope TEXT NOT NULL DEFAULT 'dataset',
            md_standard_uri TEXT NOT NULL, mime_type TEXT NOT NULL DEFAULT 'text/xml',
            metadata TEXT NOT NULL DEFAULT '')""")
        cur.execute("""CREATE TABLE gpkg_metadata_reference (
            reference_scope TEXT NOT NULL, table_name TEXT, column_name TEXT, row_id_value INTEGER,
            timestamp DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
            md_file_id INTEGER NOT NULL, md_parent_id INTEGER,
            CONSTRAINT crmr_mfi_fk FOREIGN KEY (md_file_id) REFERENCES gpkg_metadata(id),
            CONSTRAINT crmr_mpi_fk FOREIGN KEY (md_parent_id) REFERENCES gpkg_metadata(id))""")
        items = "".join(f'<MDI key="{escape(key)}">{escape(value)}</MDI>'
                        for key, value in sorted(lay.metadata.items()) if value)
        document = f"<GDALMultiDomainMetadata><Metadata>{items}</Metadata></GDALMultiDomainMetadata>"
        cur.execute("INSERT INTO gpkg_metadata (id, md_scope, md_standard_uri, mime_type, metadata) "
                    "VALUES (1, 'dataset', 'http://gdal.org', 'text/xml', ?)", (document,))
        cur.execute("INSERT INTO gpkg_metadata_reference (reference_scope, table_name, md_file_id) "
                    "VALUES ('table', ?, 1)", (lay.table,))
        definition = "http://www.geopackage.org/spec120/#extension_metadata"
        cur.executemany("INSERT INTO gpkg_extensions VALUES (?, NULL, 'gpkg_metadata', ?, 'read-write')",
                        [("gpkg_metadata", definition), ("gpkg_metadata_reference", definition)])


def needs_zoom_other(matrices: list[TileMatrix]) -> bool:
    """True when some consecutive zoom levels are not exactly a factor 2^Δ apart in pixel size."""
    ordered = sorted(matrices, key=lambda m: m.zoom_level)
    for a, b in zip(ordered, ordered[1:]):
        expected = 2.0 ** (b.zoom_level - a.zoom_level)
        for ra, rb in ((a.pixel_x_size, b.pixel_x_size), (a.pixel_y_size, b.pixel_y_size)):
            if not math.isclose(ra / rb, expected, rel_tol=1e-6):
                return True
    return False
