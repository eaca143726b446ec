"""Hostile inputs: every failure is a PackageError, never another exception, a hang or a huge allocation.

A generated corpus (truncations, bit flips and crafted files made from small valid packages of every
kind) plus Hypothesis property tests mutating packages, bundles and configuration documents.
"""
from __future__ import annotations

import bz2
import gzip
import io
import json
import lzma
import random
import struct
import tarfile
import time
import tracemalloc
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from arcgis_emulator.writers import cache_conf_xml, v2_bundle, write_cache_folder, write_package
from plugin.core.errors import PackageError
from plugin.core.packages import convert_package, open_package, package_info
from tests.unit.packages.helpers import mvt_gz, png, tpk_members, tpkx_members, v1, wm_doc, write_zip

pytestmark = pytest.mark.timeout(240)

PER_FILE_SECONDS = 10.0  # typical: ~10 ms; generous for a loaded CI machine
PEAK_BYTES = 256 * 1024 * 1024
TILES = {(r, c): png(seed=r * 8 + c) for r in range(3) for c in range(3)}


def exercise(path: Path, out_dir: Path) -> str:
    """Use every entry point on ``path``; return ``"ok"`` or ``"error"`` (PackageError) — anything else raises."""
    try:
        with open_package(path) as pkg:
            _ = pkg.levels, pkg.tile_count, pkg.title, pkg.scheme, pkg.wgs84_bounds(), pkg.data_extent()
            for level, row, col, _size in list(pkg.iter_index())[:20]:
                pkg.tile(level, row, col)
                pkg.tile(level, row + 1000, col + 1000)
            for _tile in pkg.iter_tiles():
                pass
            pkg.sniff_formats(sample=2)
            if pkg.is_vector:
                pkg.resources()
                _ = pkg.style, pkg.tilemap
        package_info(path)
        convert_package(path, out_dir / "out.auto")
    except PackageError as exc:
        # every placeholder filled (a file's bytes may hold braces), readable and bounded
        assert exc.user_message and type(exc).template.format(**exc.params) and len(exc.user_message) < 2000
        assert not any(ord(ch) < 32 for ch in exc.user_message)
        return "error"
    finally:
        for leftover in out_dir.glob("out.auto*"):
            leftover.unlink()
    return "ok"


def bounded(path: Path, out_dir: Path) -> str:
    """:func:`exercise` under a time bound and a Python-heap bound."""
    tracemalloc.start()
    started = time.perf_counter()
    try:
        result = exercise(path, out_dir)
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    elapsed = time.perf_counter() - started
    assert elapsed < PER_FILE_SECONDS, f"{path.name}: {elapsed:.1f} s"
    assert peak < PEAK_BYTES, f"{path.name}: peak {peak / 1e6:.0f} MB"
    return result


# -- base packages -------------------------------------------------------------------------------
def _bases(folder: Path) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    doc = wm_doc()
    tiles = [(2, r, c, d) for (r, c), d in TILES.items()]
    bases = {}
    bases["tpkx"] = folder / "base.tpkx"
    write_package("tpkx", bases["tpkx"], doc, tiles)
    bases["tpk"] = folder / "base.tpk"
    write_package("tpk", bases["tpk"], doc, tiles)
    bases["tpk_deflated"] = write_zip(folder / "deflated.tpk", tpk_members(doc, {"L02/R0000C0000.bundle": v1(TILES)}),
                                      deflate=True)
    bases["vtpk"] = folder / "base.vtpk"
    write_package("vtpk", bases["vtpk"], wm_doc(tile=512),
                  [(0, 0, 0, mvt_gz({"a": [{"n": 1}]})), (1, 1, 0, mvt_gz({"b": [{"s": "x"}]}))])
    cache = folder / "cache"
    write_cache_folder(cache / "Layers", doc, tiles)
    bases["tar"] = folder / "cache.tar"
    with tarfile.open(bases["tar"], "w") as tar:
        tar.add(cache / "Layers", arcname="Layers")
    bases["tar_xz"] = folder / "cache.tar.xz"  # read through the bounded decompressing stream
    with tarfile.open(bases["tar_xz"], "w:xz") as tar:
        tar.add(cache / "Layers", arcname="Layers")
    return bases


@pytest.fixture(scope="module")
def bases(tmp_path_factory) -> dict[str, Path]:
    return _bases(tmp_path_factory.mktemp("bases"))


def test_bases_are_valid(bases, tmp_path):
    for path in bases.values():
        assert bounded(path, tmp_path) == "ok", path


# -- generated corpus ------------------------------------------------------------------------------
def _truncations(data: bytes, n: int, rng: random.Random) -> list[int]:
    points = {0, 1, 4, 22, 30, 64, 100, len(data) - 1, len(data) - 22, len(data) // 2}
    points |= {rng.randrange(len(data)) for _ in range(n)}
    return sorted(p for p in points if 0 <= p < len(data))


@pytest.mark.parametrize("kind", ["tpkx", "tpk", "tpk_deflated", "vtpk", "tar", "tar_xz"])
def test_truncated_files(bases, tmp_path, kind):
    data = bases[kind].read_bytes()
    rng = random.Random(kind)
    outcomes = []
    suffix = "".join(bases[kind].suffixes)
    for cut in _truncations(data, 40, rng):
        path = tmp_path / f"cut{suffix}"
        path.write_bytes(data[:cut])
        outcomes.append(bounded(path, tmp_path))
    assert "error" in outcomes


@pytest.mark.parametrize("kind", ["tpkx", "tpk", "tpk_deflated", "vtpk", "tar", "tar_xz"])
def test_bit_flipped_files(bases, tmp_path, kind):
    data = bases[kind].read_bytes()
    rng = random.Random(f"flip-{kind}")
    suffix = "".join(bases[kind].suffixes)
    for _ in range(60):
        blob = bytearray(data)
        for _ in range(rng.choice((1, 2, 8, 64))):
            pos = rng.randrange(len(blob))
            blob[pos] ^= 1 << rng.randrange(8)
        path = tmp_path / f"flip{suffix}"
        path.write_bytes(bytes(blob))
        bounded(path, tmp_path)


def test_flips_in_the_bundle_index(bases, tmp_path):
    """Bit flips aimed at the V2 header/index and the V1 bundlx, where damage matters most."""
    rng = random.Random("index")
    for kind, member_suffix, span in (("tpkx", ".bundle", 131136), ("tpk", ".bundlx", 81952)):
        with zipfile.ZipFile(bases[kind]) as zf:
            members = {i.filename: zf.read(i) for i in zf.infolist()}
        target = next(name for name in members if name.endswith(member_suffix))
        for _ in range(40):
            blob = bytearray(members[target])
            for _ in range(rng.choice((1, 4, 32))):
                pos = rng.randrange(min(span, len(blob)))
                blob[pos] = rng.randrange(256)
            mutated = dict(members, **{target: bytes(blob)})
            bounded(write_zip(tmp_path / f"idx.{kind}", mutated), tmp_path)


def _zip_with_patched_sizes(src: Path, dst: Path, member_suffix: str, *, file_size: int | None = None,
                            compress_size: int | None = None) -> Path:
    blob = bytearray(src.read_bytes())
    pos = blob.find(b"PK\x01\x02")
    while pos >= 0:
        name_len = struct.unpack_from("<H", blob, pos + 28)[0]
        if bytes(blob[pos + 46:pos + 46 + name_len]).endswith(member_suffix.encode()):
            if compress_size is not None:
                struct.pack_into("<I", blob, pos + 20, compress_size)
            if file_size is not None:
                struct.pack_into("<I", blob, pos + 24, file_size)
        pos = blob.find(b"PK\x01\x02", pos + 4)
    dst.write_bytes(bytes(blob))
    return dst


def test_crafted_files(bases, tmp_path):
    doc = wm_doc()
    crafted: dict[str, Path] = {}
    # declared sizes that do not match the data (stored and deflated)
    crafted["stored_huge"] = _zip_with_patched_sizes(bases["tpkx"], tmp_path / "a.tpkx", ".bundle",
                                                     file_size=0x7FFFFFFF, compress_size=0x7FFFFFFF)
    crafted["stored_mismatch"] = _zip_with_patched_sizes(bases["tpkx"], tmp_path / "b.tpkx", ".bundle",
                                                         file_size=1000)
    crafted["deflate_ratio"] = _zip_with_patched_sizes(bases["tpk_deflated"], tmp_path / "c.tpk", ".bundle",
                                                       file_size=0xFFFFFF00)
    crafted["deflate_short"] = _zip_with_patched_sizes(bases["tpk_deflated"], tmp_path / "d.tpk", ".bundle",
                                                       file_size=200000)
    # a real zip bomb: 60 MB of zeros as the bundle, a few dozen KB compressed
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("v101/Layers/conf.xml", cache_conf_xml(doc, storage_format="esriMapCacheStorageModeCompact"))
        zf.writestr("v101/Layers/_alllayers/L00/R0000C0000.bundlx", v1(TILES)[1])
        zf.writestr("v101/Layers/_alllayers/L00/R0000C0000.bundle", bytes(60 * 1024 * 1024))
    (tmp_path / "bomb.tpk").write_bytes(bomb.getvalue())
    crafted["bomb"] = tmp_path / "bomb.tpk"
    # index entries with absurd sizes/offsets
    bundle = bytearray(v2_bundle(TILES))
    struct.pack_into("<Q", bundle, 64 + 8 * 5, (1 << 40) - 1 | ((1 << 24) - 1) << 40)
    crafted["v2_absurd"] = write_zip(tmp_path / "e.tpkx",
                                     tpkx_members(doc, {"L00/R0000C0000.bundle": bytes(bundle)}))
    vb, vx = v1(TILES)
    vb = bytearray(vb)
    first = int.from_bytes(vx[16:21], "little")
    vb[first:first + 4] = b"\xff\xff\xff\xff"
    crafted["v1_absurd_prefix"] = write_zip(tmp_path / "f.tpk",
                                            tpk_members(doc, {"L00/R0000C0000.bundle": (bytes(vb), vx)}))
    vx2 = bytearray(vx)
    vx2[16:21] = (10**12).to_bytes(5, "little")
    crafted["v1_offset_past_end"] = write_zip(tmp_path / "g.tpk",
                                              tpk_members(doc, {"L00/R0000C0000.bundle": (vb, bytes(vx2))}))
    crafted["v1_short_bundlx"] = write_zip(tmp_path / "h.tpk",
                                           tpk_members(doc, {"L00/R0000C0000.bundle": (vb, vx[:5000])}))
    # configuration documents
    crafted["deep_json"] = write_zip(tmp_path / "i.tpkx", {"root.json": b"[" * 200000 + b"]" * 200000})
    crafted["json_types"] = write_zip(tmp_path / "j.tpkx", {"root.json": json.dumps(
        {"tileInfo": {"origin": {"x": "a", "y": None}, "lods": "x", "rows": -1}}).encode()})
    crafted["nan_lods"] = write_zip(tmp_path / "k.tpkx", {"root.json": json.dumps(
        {"tileInfo": {"origin": {"x": 0, "y": 0}, "lods": [{"level": 0, "resolution": "NaN"}]}}).encode()})
    crafted["huge_levels"] = write_zip(tmp_path / "l.tpkx", tpkx_members(
        doc, {"L999/R0000C0000.bundle": v2_bundle(TILES)}))
    crafted["entities"] = write_zip(tmp_path / "m.tpk", {"v101/Layers/conf.xml": (
        b'<!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
        b'<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]><CacheInfo>&c;</CacheInfo>')})
    crafted["xxe"] = write_zip(tmp_path / "n.tpk", {"v101/Layers/conf.xml": (
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><CacheInfo>&e;</CacheInfo>')})
    crafted["slip"] = write_zip(tmp_path / "o.tpkx", dict(tpkx_members(doc, {}), **{"../../x.bundle": b"x"}))
    slip_tar = tmp_path / "p.tar"
    with tarfile.open(slip_tar, "w") as tar:
        info = tarfile.TarInfo("../../etc/conf.xml")
        payload = cache_conf_xml(doc).encode()
        info.size = len(payload)
        tar.addfile(info, io.BytesIO(payload))
    crafted["tar_slip"] = slip_tar
    crafted["fake_png"] = tmp_path / "q.tpk"
    crafted["fake_png"].write_bytes(png())
    crafted["encrypted"] = _set_flag(bases["tpkx"], tmp_path / "r.tpkx", 0x1)
    crafted["dup_names"] = _duplicate_member(bases["tpkx"], tmp_path / "s.tpkx")
    outcomes = {name: bounded(path, tmp_path) for name, path in crafted.items()}
    # Deflate cannot expand more than ~1032:1, so 60 MB of zeros from ~60 KB is a *legal* member: it
    # is inflated within the memory bound (``bounded``) and read as a bundle of empty records, so the
    # package opens, but it has no tile to convert (a lying ratio is "deflate_ratio").
    with open_package(crafted["bomb"]) as pkg:
        assert pkg.tile_count == len(TILES) and list(pkg.iter_tiles()) == []
    with pytest.raises(PackageError, match=r"none of its 9 tiles can be written \(9 are empty records\)") as caught:
        convert_package(crafted["bomb"], tmp_path / "bomb.gpkg")
    assert "download it again" in caught.value.user_message
    assert not list(tmp_path.glob("bomb.gpkg*"))
    must_fail = set(crafted) - {"huge_levels", "dup_names", "deflate_short"}
    assert {name for name in must_fail if outcomes[name] != "error"} == set()


TAR_CODECS = {"gz": lambda data: gzip.compress(data, 9, mtime=0), "bz2": bz2.compress, "xz": lzma.compress}


def _compressed_tar_bomb(path: Path, codec: str, declared: int = 4 << 30, chunk: int = 4 << 20) -> Path:
    """A tar whose one member claims ``declared`` bytes of zeros, compressed: concatenated streams of
    one compressed chunk (gzip, bzip2 and xz all read them as one), a few MB at most on disk."""
    info = tarfile.TarInfo("Layers/_alllayers/L00/R0000C0000.bundle")
    info.size = declared
    head = info.tobuf(format=tarfile.GNU_FORMAT)
    compress = TAR_CODECS[codec]
    path.write_bytes(compress(head + bytes(chunk - len(head))) + compress(bytes(chunk)) * (declared // chunk))
    return path


@pytest.mark.parametrize("codec", sorted(TAR_CODECS))
def test_compressed_tar_bomb_is_refused_before_it_is_unpacked(tmp_path, codec):
    """Listing a compressed tar decompresses it: 4 GB of zeros would take a minute; it is refused."""
    path = _compressed_tar_bomb(tmp_path / f"bomb.tar.{codec}", codec)
    assert path.stat().st_size < 8 << 20
    assert bounded(path, tmp_path) == "error"
    with pytest.raises(PackageError, match="unpacks to more than 1024 MB") as caught:
        open_package(path)
    assert "tar -xf" in caught.value.user_message  # what to do next


def _set_flag(src: Path, dst: Path, flag: int) -> Path:
    blob = bytearray(src.read_bytes())
    for sig, at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        pos = blob.find(sig)
        while pos >= 0:
            (flags,) = struct.unpack_from("<H", blob, pos + at)
            struct.pack_into("<H", blob, pos + at, flags | flag)
            pos = blob.find(sig, pos + 4)
    dst.write_bytes(bytes(blob))
    return dst


def _duplicate_member(src: Path, dst: Path) -> Path:
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for info in zin.infolist():
            zout.writestr(info, zin.read(info))
        name = next(i.filename for i in zin.infolist() if i.filename.endswith(".bundle"))
        with pytest.warns(UserWarning):
            zout.writestr(name, b"garbage")
    return dst


# -- Hypothesis ------------------------------------------------------------------------------------
HYPO = settings(max_examples=100, deadline=None, suppress_health_check=[
    HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large])


@pytest.mark.slow  # many generated packages: `make test` runs it, `make test-unit` does not
@HYPO
@given(data=st.data())
def test_property_mutated_packages(bases, tmp_path, data):
    kind = data.draw(st.sampled_from(sorted(bases)))
    blob = bytearray(bases[kind].read_bytes())
    edits = data.draw(st.lists(st.tuples(st.integers(0, len(blob) - 1), st.integers(0, 255)), max_size=12))
    for pos, value in edits:
        blob[pos] = value
    cut = data.draw(st.one_of(st.none(), st.integers(0, len(blob))))
    if cut is not None:
        blob = blob[:cut]
    path = tmp_path / f"m{''.join(bases[kind].suffixes)}"
    path.write_bytes(bytes(blob))
    bounded(path, tmp_path)


@HYPO
@given(bundle=st.one_of(st.binary(max_size=4096),
                        st.builds(lambda head, tail: head + tail,
                                  st.just(v2_bundle(TILES)[:131136]), st.binary(max_size=20000))))
def test_property_random_v2_bundles(tmp_path, bundle):
    path = write_zip(tmp_path / "r.tpkx", tpkx_members(wm_doc(), {"L00/R0000C0000.bundle": bundle}))
    bounded(path, tmp_path)


@pytest.mark.slow  # many generated packages: `make test` runs it, `make test-unit` does not
@HYPO
@given(bundlx=st.one_of(st.binary(max_size=2048), st.binary(min_size=81936, max_size=81952)),
       bundle=st.binary(max_size=70000), index_edits=st.lists(
           st.tuples(st.integers(0, 16383), st.integers(0, 2**40 - 1)), max_size=20))
def test_property_random_v1_bundles(tmp_path, bundlx, bundle, index_edits):
    good_bundle, good_bundlx = v1(TILES)
    if len(bundlx) >= 81936:  # keep the shape, randomise some offsets
        raw = bytearray(good_bundlx)
        for slot, offset in index_edits:
            raw[16 + 5 * slot:21 + 5 * slot] = offset.to_bytes(5, "little")
        bundlx = bytes(raw)
        bundle = good_bundle[:len(bundle)] if bundle else good_bundle
    path = write_zip(tmp_path / "r.tpk", tpk_members(wm_doc(), {"L00/R0000C0000.bundle": (bundle, bundlx)}))
    bounded(path, tmp_path)


JSON = st.recursive(st.none() | st.booleans() | st.floats(allow_nan=True) | st.integers() | st.text(max_size=8),
                    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children,
                                                                                      max_size=4),
                    max_leaves=30)
KEYS = ["tileInfo", "origin", "lods", "level", "resolution", "rows", "cols", "x", "y", "minLOD", "maxLOD",
        "spatialReference", "wkid", "format", "tileBundlesPath", "tiles", "fullExtent", "tileMap"]


@pytest.mark.slow  # many generated packages: `make test` runs it, `make test-unit` does not
@HYPO
@given(doc=st.dictionaries(st.sampled_from(KEYS), JSON, max_size=6), info=st.dictionaries(
    st.sampled_from(KEYS), JSON | st.lists(st.dictionaries(st.sampled_from(KEYS), JSON, max_size=3), max_size=3),
    max_size=6))
def test_property_random_root_json(tmp_path, doc, info):
    doc = dict(doc)
    doc["tileInfo"] = info
    members = {"root.json": json.dumps(doc).encode(), "tile/L00/R0000C0000.bundle": v2_bundle(TILES)}
    bounded(write_zip(tmp_path / "j.tpkx", members), tmp_path)


@pytest.mark.slow  # many generated packages: `make test` runs it, `make test-unit` does not
@HYPO
@given(edits=st.lists(st.tuples(st.integers(0, 10**6), st.sampled_from(
    ["<", ">", "-", "1e999", "nan", "</LODInfo>", "<LODInfo>", "x", "", "0", "&amp;", "\x00"])), max_size=6))
def test_property_mutated_conf_xml(tmp_path, edits):
    text = cache_conf_xml(wm_doc(levels=4), storage_format="esriMapCacheStorageModeCompact")
    for where, token in edits:
        pos = where % len(text)
        text = text[:pos] + token + text[pos + 1:]
    members = {"v101/Layers/conf.xml": text.encode("utf-8", "replace"),
               "v101/Layers/_alllayers/L00/R0000C0000.bundle": v1(TILES)[0],
               "v101/Layers/_alllayers/L00/R0000C0000.bundlx": v1(TILES)[1]}
    bounded(write_zip(tmp_path / "x.tpk", members), tmp_path)
