"""Job ids from the server and part records from disk are validated before they name a URL or a file."""
from __future__ import annotations

import json
import logging

import pytest

from plugin.core import jobs
from plugin.core.errors import ServerError
from plugin.core.export import Exporter
from plugin.core.exportstore import CANCELLED, SUBMITTED, ExportStore, PartRecord
from plugin.core.http import HttpConfig, create_session

BAD_IDS = ["../../admin/shutdown", "j1?f=json&redirect=x", "j1#x", "%2e%2e%2fadmin", "..", "a/b", "a\\b",
           "", " j1", "j1\n", "x" * 200]


@pytest.fixture
def session(fake_clock):
    return create_session(HttpConfig(retries=0), clock=fake_clock)


@pytest.mark.parametrize("bad_id", BAD_IDS)
def test_a_job_id_that_is_not_a_plain_name_is_a_server_error(fake_server, session, bad_id):
    fake_server.route("/svc/exportTiles", {"jobId": bad_id, "jobStatus": "esriJobSubmitted"})
    with pytest.raises(ServerError) as info:
        jobs.submit(session, fake_server.url("/svc"), {"levels": "1"})
    assert "job id" in str(info.value)
    assert [r.path for r in fake_server.requests] == ["/svc/exportTiles"]  # nothing else was requested


def test_real_job_id_shapes_are_accepted(fake_server, session):
    for job_id in ("j3c0d2b5f1e9a4c7d8e6f0a1b2c3d4e5f_et", "0b1c2d3e4f5a6b7c", "ab12-cd34_EF"):
        fake_server.route("/svc/exportTiles", {"jobId": job_id, "jobStatus": "esriJobSubmitted"})
        assert jobs.submit(session, fake_server.url("/svc"), {"levels": "1"}).job_id == job_id


def test_cancelling_a_record_with_a_tampered_job_id_requests_nothing(fake_server, session, tmp_path, caplog):
    record = PartRecord(service_url=fake_server.url("/svc"), state=SUBMITTED,
                       job={"service_url": fake_server.url("/svc"), "job_id": "../../admin/shutdown",
                            "protocol": "gp", "operation": "exportTiles", "job_url": None})
    with caplog.at_level(logging.WARNING):
        Exporter(session, store=ExportStore(tmp_path)).cancel(record)
    assert fake_server.requests == []
    assert record.state == CANCELLED and "cannot be cancelled" in caplog.text


def test_a_stored_job_url_elsewhere_is_not_followed(fake_server, session):
    fake_server.route("/svc/jobs/j1", {"jobId": "j1", "jobStatus": "esriJobExecuting"})
    job = jobs.Job.from_dict({"service_url": fake_server.url("/svc"), "job_id": "j1",
                              "job_url": fake_server.url("/admin/delete")})
    assert jobs.fetch_status(session, job).state == jobs.RUNNING
    assert [r.path for r in fake_server.requests] == ["/svc/jobs/j1"]


def test_a_result_param_url_elsewhere_is_not_followed(fake_server, session):
    status = {"jobId": "j1", "jobStatus": "esriJobSucceeded",
              "results": {"out_service_url": {"paramUrl": "../../../admin/users?f=json"}}}
    fake_server.route("/svc/jobs/j1", status)
    fake_server.route("/svc/jobs/j1/results/out_service_url", {"value": {"url": "https://x/out.tpkx"}})
    job = jobs.Job(fake_server.url("/svc"), "j1")
    done = jobs.fetch_status(session, job)
    assert jobs.package_urls(session, job, done) == ["https://x/out.tpkx"]
    assert [r.path for r in fake_server.requests] == ["/svc/jobs/j1", "/svc/jobs/j1/results/out_service_url"]


# --- the export store ---------------------------------------------------------------------------
def _doc(**kw) -> dict:
    record = PartRecord(service_url="https://gis.example.com/arcgis/rest/services/A/MapServer", levels=[0, 1],
                       tiles=5, state=SUBMITTED)
    return {**record.to_dict(), **kw}


@pytest.mark.parametrize(("name", "change"), [
    ("traversal", {"id": "../../x"}),
    ("plan traversal", {"plan_id": "../../../x"}),
    ("tiles as text", {"tiles": "many"}),
    ("levels as text", {"levels": "0-3"}),
    ("level as text", {"levels": [0, "1"]}),
    ("params as list", {"params": ["levels", "1"]}),
    ("created as text", {"created": "yesterday"}),
    ("job as text", {"job": "j1"}),
    ("job id traversal", {"job": {"job_id": "../../admin", "protocol": "gp"}}),
    ("job protocol", {"job": {"job_id": "j1", "protocol": 5}}),
    ("download url number", {"downloads": [{"url": 5, "target": "/x.tpkx"}]}),
    ("download bytes text", {"downloads": [{"url": "u", "target": "/x.tpkx", "bytes_done": "10"}]}),
    ("download as list", {"downloads": [["u", "/x.tpkx"]]}),
    ("result url number", {"result_urls": [1]}),
])
def test_a_bad_record_is_set_aside_and_the_others_load(tmp_path, caplog, name, change):
    store = ExportStore(tmp_path / "store")
    good = PartRecord.from_dict(_doc())
    store.save(good)
    doc = _doc(**change)
    bad_name = "0123456789abcdef0123456789abcdef"
    doc.setdefault("id", bad_name)
    if change.get("id"):
        bad_name = "tampered"
    (tmp_path / "store" / f"{bad_name}.json").write_text(json.dumps(doc))
    with caplog.at_level(logging.WARNING):
        records = store.records()
        resumable = store.resumable()
    assert [r.id for r in records] == [good.id] and [r.id for r in resumable] == [good.id]
    assert (tmp_path / "store" / f"{bad_name}.json.bad").exists()
    assert "damaged" in caplog.text


def test_a_record_with_the_update_times_earlier_versions_wrote_still_resumes(tmp_path):
    """Earlier versions wrote an "updated" time in the export and in each part, which nothing read: such a
    file is read as it is and written again without them."""
    store = ExportStore(tmp_path / "store")
    part = {**_doc(plan_id="e1", id="p1"), "updated": 5.0}
    (tmp_path / "store").mkdir()
    (tmp_path / "store" / "e1.json").write_text(json.dumps({
        "format": 2, "export_id": "e1", "request": None, "state": "paused", "created": 1.0, "updated": 5.0,
        "parts": [part]}))
    assert [r.id for r in store.resumable()] == ["p1"] and store.export("e1").created == 1.0
    record = store.load("p1")
    record.state = CANCELLED
    store.save(record)
    doc = json.loads((tmp_path / "store" / "e1.json").read_text())
    assert "updated" not in doc and "updated" not in doc["parts"][0] and doc["parts"][0]["state"] == CANCELLED


def test_a_record_id_never_names_a_file_outside_the_store(tmp_path):
    store = ExportStore(tmp_path / "store")
    outside = tmp_path / "x.json"
    outside.write_text("precious")
    record = PartRecord.from_dict(_doc())
    record.id = "../x"
    store.save(record)  # refused, with a warning; nothing written anywhere
    store.delete("../x")
    assert outside.read_text() == "precious"
    assert not (tmp_path / "store").exists() or not list((tmp_path / "store").iterdir())
    assert store.load("../x") is None
