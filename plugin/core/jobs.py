"""Server-side export and estimate jobs: submit, poll with back-off, read results, cancel.

Two protocols exist (see the reference §4):

* ``gp`` — ArcGIS Server / Enterprise (and Online's tiledbasemaps): submit answers
  ``{"jobId", "jobStatus"}``; the status resource has ``jobStatus``, ``messages`` and (10.8.1+)
  ``progress``; the result is ``<job>/results/out_service_url`` whose ``value`` is a dict with
  ``url``, a file URL or a folder listing ``files``.  Status lives at ``<svc>/jobs/<id>``, older
  servers use ``<svc>/exportTiles/jobs/<id>``; the form that answers is remembered.
* ``online`` — ArcGIS Online vector export: submit answers ``{"status": "success", "jobId"}``
  (accepted, not done); the status has ``numTasks``/``numDoneTasks`` and ``output.outputUrl``, a
  list of pre-signed URLs.
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import Any, Callable
from urllib.parse import urljoin, urlsplit

from .errors import (
    ArcGISOfflineTilesError,
    InvalidRequestError,
    JobCancelledError,
    JobFailedError,
    JobNotFoundError,
    JobTimedOutError,
    JobTimedOutOnServerError,
    ServerError,
    ServiceNotFoundError,
    TooManyTilesError,
    redact,
)
from .http import REAL_CLOCK, CancelToken, Clock, check_cancel, get_json, post_json, send_params

LOG = logging.getLogger(__name__)

GP = "gp"
ONLINE = "online"
EXPORT = "exportTiles"
ESTIMATE = "estimateExportTilesSize"
PACKAGE_SUFFIXES = (".tpkx", ".tpk", ".vtpk", ".zip")

PENDING, RUNNING, SUCCEEDED, FAILED, TIMED_OUT, CANCELLED = (
    "pending", "running", "succeeded", "failed", "timed_out", "cancelled")
TERMINAL = frozenset({SUCCEEDED, FAILED, TIMED_OUT, CANCELLED})
_STATES = {
    "esrijobnew": PENDING, "esrijobsubmitted": PENDING, "esrijobwaiting": PENDING, "submitted": PENDING,
    "new": PENDING, "pending": PENDING, "queued": PENDING,
    "esrijobexecuting": RUNNING, "esrijobcancelling": RUNNING, "inprogress": RUNNING, "executing": RUNNING,
    "processing": RUNNING, "running": RUNNING,
    "esrijobsucceeded": SUCCEEDED, "done": SUCCEEDED, "completed": SUCCEEDED, "succeeded": SUCCEEDED,
    "esrijobfailed": FAILED, "failed": FAILED, "error": FAILED, "partialerror": FAILED,
    "esrijobtimedout": TIMED_OUT, "timedout": TIMED_OUT,
    "esrijobcancelled": CANCELLED, "canceled": CANCELLED, "cancelled": CANCELLED,
    "esrijobdeleted": CANCELLED, "esrijobdeleting": CANCELLED,
}
_TOO_MANY = re.compile(r"001564|exceeds the maximum allowed number of tiles|too many tiles", re.IGNORECASE)
_NUMBERS = re.compile(r"\(\s*(\d[\d,]*)\s*\)|(\d[\d,]*)")
# A job id becomes a URL path segment of authenticated requests: only plain names (Esri's are hex, with
# "j" and "_et" around them on ArcGIS Server); "../", "?", "#" or "%2e%2e" would aim them elsewhere.
SAFE_ID = re.compile(r"[A-Za-z0-9_-]{1,128}\Z")


def is_safe_id(value: Any) -> bool:
    return isinstance(value, str) and SAFE_ID.match(value) is not None


def check_job_id(job_id: Any) -> str:
    """``job_id`` when it is a plain name; else :class:`ServerError` (and nothing is requested)."""
    if not is_safe_id(job_id):
        raise ServerError(reason="the server gave a job id that is not a plain name",
                          details=redact(f"job id {str(job_id)[:200]!r}"))
    return job_id


def too_many_tiles_from_text(text: str, limit: int | None = None) -> TooManyTilesError | None:
    """``ERROR 001564: Requested tile count(123) exceeds the maximum allowed number of tiles(100)``
    → :class:`TooManyTilesError` with ``count`` and ``limit``; None when the text is something else."""
    if not text or not _TOO_MANY.search(text):
        return None
    tail = text[text.find("001564") + 6:] if "001564" in text else text
    numbers = [int((a or b).replace(",", "")) for a, b in _NUMBERS.findall(tail)]
    count = numbers[0] if numbers else None
    server_limit = numbers[1] if len(numbers) > 1 else limit
    return TooManyTilesError(count=count if count is not None else "?",
                             limit=server_limit if server_limit is not None else "?",
                             details=redact(text))


@dataclass
class Job:
    """A server job; JSON-friendly so the part record can keep it."""

    service_url: str
    job_id: str
    protocol: str = GP
    operation: str = EXPORT
    job_url: str | None = None  # the status URL form that answered

    def __post_init__(self) -> None:
        check_job_id(self.job_id)
        if self.operation not in (EXPORT, ESTIMATE):
            raise ServerError(reason="the part record names an unknown operation",
                              details=redact(str(self.operation)[:100]))
        if self.job_url is not None and self.job_url not in self._standard_urls():
            self.job_url = None  # only ever one of the two standard forms: anything else was not ours

    def _standard_urls(self) -> list[str]:
        base = self.service_url.rstrip("/")
        return [f"{base}/jobs/{self.job_id}", f"{base}/{self.operation}/jobs/{self.job_id}"]

    def candidate_urls(self) -> list[str]:
        urls = self._standard_urls()
        if self.job_url:
            urls = [self.job_url] + [u for u in urls if u != self.job_url]
        return urls

    def to_dict(self) -> dict:
        return {"service_url": self.service_url, "job_id": self.job_id, "protocol": self.protocol,
                "operation": self.operation, "job_url": self.job_url}

    @classmethod
    def from_dict(cls, data: dict) -> Job:
        """From a part record; raises :class:`ServerError` for an id or operation that is not ours."""
        service_url, job_url = data["service_url"], data.get("job_url")
        protocol, operation = data.get("protocol", GP), data.get("operation", EXPORT)
        if not isinstance(service_url, str) or not isinstance(job_url, (str, type(None))) \
                or protocol not in (GP, ONLINE):
            raise ServerError(reason="the part record is damaged", details=redact(str(data)[:300]))
        return cls(service_url=service_url, job_id=data["job_id"], protocol=protocol, operation=operation,
                   job_url=job_url)


@dataclass
class JobStatus:
    state: str  # PENDING / RUNNING / SUCCEEDED / FAILED / TIMED_OUT / CANCELLED
    server_status: str
    fraction: float | None  # 0..1 when the server says
    message: str  # human, short
    errors: list[str] = field(default_factory=list)
    doc: dict = field(default_factory=dict, repr=False)

    @property
    def done(self) -> bool:
        return self.state in TERMINAL


ProgressCb = Callable[[JobStatus], None]


# --- submit ------------------------------------------------------------------------------------
def submit(session: Any, service_url: str, params: dict, *, operation: str = EXPORT,
           cancel: CancelToken | None = None, force_post: bool = False) -> Job:
    """Submit ``exportTiles`` / ``estimateExportTilesSize``; returns the job handle."""
    url = f"{service_url.rstrip('/')}/{operation}"
    force_post = force_post or any(k in params for k in ("polygon", "areaOfInterest"))
    try:
        doc = send_params(session, url, params, force_post=force_post, cancel=cancel, creates_job=True)
    except InvalidRequestError as exc:
        too_many = too_many_tiles_from_text(f"{exc.details} {getattr(exc, 'server_message', '')}")
        if too_many is not None:
            raise too_many from None
        raise
    if not isinstance(doc, dict) or not doc.get("jobId"):
        raise ServerError(reason=f"{operation} answered without a job id", details=redact(str(doc)[:500]))
    job_id = check_job_id(str(doc["jobId"]))
    status = str(doc.get("status") or "").lower()
    protocol = ONLINE if ("jobStatus" not in doc and status in ("success", "submitted", "")) else GP
    if status in ("failed", "error"):
        raise JobFailedError(reason=str(doc.get("message") or doc), details=redact(str(doc)[:500]))
    LOG.info("Submitted %s job %s (%s protocol) to %s", operation, job_id, protocol, redact(service_url))
    return Job(service_url=service_url.rstrip("/"), job_id=job_id, protocol=protocol, operation=operation)


# --- status ------------------------------------------------------------------------------------
def _messages(doc: dict) -> tuple[list[str], list[str], list[str]]:
    """The descriptions of the GP ``messages``: informative, warnings, errors."""
    infos: list[str] = []
    warnings: list[str] = []
    errors: list[str] = []
    for msg in doc.get("messages") or []:
        if not isinstance(msg, dict):
            continue
        text = str(msg.get("description") or "").strip()
        if not text:
            continue
        kind = str(msg.get("type", "")).lower()
        (errors if "error" in kind else warnings if "warning" in kind else infos).append(text)
    return infos, warnings, errors


def interpret(doc: dict, protocol: str) -> JobStatus:
    """Turn a status document of either protocol into a :class:`JobStatus`."""
    raw = str(doc.get("jobStatus") or doc.get("status") or "")
    state = _STATES.get(raw.lower().replace("_", ""), RUNNING)
    infos, warnings, errors = _messages(doc)
    fraction: float | None = None
    message = ""
    if protocol == ONLINE or "numTasks" in doc:
        tasks = _int(doc.get("numTasks"))
        done = _int(doc.get("numDoneTasks"))
        urls = _output_urls(doc)
        if raw.lower() == "success":  # accepted (submit vocabulary) unless outputs are there
            state = SUCCEEDED if urls else PENDING
        if state == SUCCEEDED and not urls and not (doc.get("output") or {}).get("itemId"):
            state = RUNNING  # done but the links are not published yet: poll again
        if tasks:
            fraction = min(1.0, done / tasks)
            message = f"{done} of {tasks} export tasks done"
        num_tiles, estimated = _int(doc.get("numTiles")), _int(doc.get("estimatedNumTiles"))
        if estimated:
            message += f"{', ' if message else ''}{num_tiles} of {estimated} tiles"
            if fraction is None or (fraction == 0 and num_tiles):
                fraction = min(1.0, num_tiles / estimated)
        if doc.get("message") and state in (FAILED, TIMED_OUT, CANCELLED):
            errors.append(str(doc["message"]))
    progress = doc.get("progress")
    if isinstance(progress, dict):
        pct = progress.get("percent")
        if isinstance(pct, (int, float)):
            fraction = max(0.0, min(1.0, float(pct) / 100.0))
        if progress.get("message"):
            message = str(progress["message"])
    if state in (FAILED, TIMED_OUT, CANCELLED) and not errors:
        errors = warnings  # e.g. why the server cancelled the job
    if state == SUCCEEDED:
        fraction = 1.0
    if not message:
        message = {PENDING: "Waiting for the server to start the export",
                   RUNNING: "The server is exporting tiles",
                   SUCCEEDED: "The server finished the export",
                   FAILED: "The export failed on the server",
                   TIMED_OUT: "The export timed out on the server",
                   CANCELLED: "The export was cancelled on the server"}[state]
        if infos and state == RUNNING:
            message = f"{message} ({infos[-1]})"
    # servers echo requests (tokens included) in their messages: these reach the dock and the export store
    return JobStatus(state=state, server_status=redact(raw), fraction=fraction, message=redact(message),
                     errors=[redact(e) for e in errors], doc=doc)


def _int(value: Any) -> int:
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        return 0


def _output_urls(doc: dict) -> list[str]:
    output = doc.get("output") or {}
    urls = output.get("outputUrl") if isinstance(output, dict) else None
    if isinstance(urls, str):
        urls = [urls]
    return [u for u in (urls or []) if isinstance(u, str) and u]


def fetch_status(session: Any, job: Job, cancel: CancelToken | None = None) -> JobStatus:
    """One status request; tries the job URL forms and remembers the one that answers."""
    last: ArcGISOfflineTilesError | None = None
    for url in job.candidate_urls():
        try:
            doc = get_json(session, url, cancel=cancel)
        except ServiceNotFoundError as exc:
            last = exc
            continue
        except ArcGISOfflineTilesError as exc:
            if getattr(exc, "code", 0) in (400, 404) and "job" in str(getattr(exc, "server_message", "")).lower():
                last = exc
                continue
            raise
        if not isinstance(doc, dict) or not (doc.get("jobStatus") or doc.get("status")):
            raise ServerError(reason="the job status answer has no status", details=redact(str(doc)[:300]))
        if job.job_url != url:
            LOG.info("Job %s answers at %s", job.job_id, redact(url))
            job.job_url = url
        return interpret(doc, job.protocol)
    raise JobNotFoundError(job_id=job.job_id, details=last.details if last else "")


def raise_for_failure(status: JobStatus, job: Job, limit: int | None = None) -> None:
    """Typed errors for jobs the server ended without success: 001564 → :class:`TooManyTilesError`,
    ``esriJobTimedOut`` → :class:`JobTimedOutOnServerError`, ``esriJobCancelled`` (by the server or an
    administrator: a cancel of ours stops polling before) → :class:`JobCancelledError`, others →
    :class:`JobFailedError`; each carries the server's messages."""
    if status.state in (PENDING, RUNNING, SUCCEEDED):
        return
    errors = [e for e in status.errors if e.strip().rstrip(".").lower() not in ("failed", "error")]
    text = "; ".join(errors) or status.server_status
    too_many = too_many_tiles_from_text(text, limit)
    if too_many is not None:
        raise too_many
    details = f"job {job.job_id}: {status.server_status}"
    if status.state == TIMED_OUT:
        raise JobTimedOutOnServerError(reason=text or status.server_status, details=details)
    if status.state == CANCELLED:
        raise JobCancelledError(reason=text or status.server_status, details=details)
    raise JobFailedError(reason=text or "no message from the server", details=details)


@dataclass
class PollPolicy:
    first: float = 1.0
    factor: float = 1.5
    max: float = 10.0
    timeout: float | None = 3600.0  # overall, chosen by the caller; None = forever

    def delays(self):
        delay = self.first
        while True:
            yield delay
            delay = min(self.max, delay * self.factor)


def wait(session: Any, job: Job, *, policy: PollPolicy | None = None, clock: Clock | None = None,
         cancel: CancelToken | None = None, progress: ProgressCb | None = None,
         limit: int | None = None) -> JobStatus:
    """Poll until the job ends; returns the succeeded status or raises the typed failure.

    Timeout → :class:`JobTimedOutError` (the server job is not cancelled, the record keeps it).
    """
    policy = policy or PollPolicy()
    clock = clock or getattr(session, "clock", REAL_CLOCK)
    started = clock.now()
    delays = policy.delays()
    while True:
        check_cancel(cancel)
        status = fetch_status(session, job, cancel)
        if progress is not None:
            progress(status)
        if status.done:
            raise_for_failure(status, job, limit)
            return status
        delay = next(delays)
        if policy.timeout is not None and clock.now() - started + delay > policy.timeout:
            raise JobTimedOutError(reason=f"still {status.server_status or status.state} after "
                                   f"{policy.timeout:.0f} s", details=f"job {job.job_id}")
        clock.sleep(delay, cancel)


# --- results -----------------------------------------------------------------------------------
def _resolve(base: str, url: str) -> str:
    return url if urlsplit(url).scheme else urljoin(base.rstrip("/") + "/", url)


def _is_package_url(url: str) -> bool:
    return urlsplit(url).path.lower().endswith(PACKAGE_SUFFIXES)


def result_value(session: Any, job: Job, status: JobStatus | None = None,
                 cancel: CancelToken | None = None, param: str = "out_service_url") -> Any:
    """``value`` of the GP result parameter (``results/out_service_url``)."""
    job_url = job.job_url or job.candidate_urls()[0]
    param_url = f"results/{param}"
    results = (status.doc.get("results") if status else None) or {}
    entry = results.get(param) if isinstance(results, dict) else None
    if isinstance(entry, dict) and isinstance(entry.get("paramUrl"), str) \
            and re.fullmatch(r"results/[A-Za-z0-9_]{1,128}", entry["paramUrl"]):
        param_url = entry["paramUrl"]  # anything else would aim an authenticated request elsewhere
    doc = get_json(session, _resolve(job_url, param_url), cancel=cancel)
    if not isinstance(doc, dict) or "value" not in doc:
        raise ServerError(reason=f"the job result {param} has no value", details=redact(str(doc)[:300]))
    return doc["value"]


def package_urls(session: Any, job: Job, status: JobStatus, cancel: CancelToken | None = None) -> list[str]:
    """The download URLs of a succeeded export job (absolute; several for split outputs)."""
    if job.protocol == ONLINE or _output_urls(status.doc):
        urls = [_resolve(job.service_url, u) for u in _output_urls(status.doc)]
        if not urls:
            raise ServerError(reason="the finished job lists no output file", details=f"job {job.job_id}")
        return urls
    value = result_value(session, job, status, cancel)
    return urls_from_value(session, job.service_url, value, cancel)


def urls_from_value(session: Any, service_url: str, value: Any, cancel: CancelToken | None = None) -> list[str]:
    """The three shapes of ``out_service_url``'s value: ``{"url"}``, a file URL, a folder."""
    if isinstance(value, dict):
        if value.get("url"):
            return [_resolve(service_url, str(value["url"]))]
        if isinstance(value.get("files"), list):
            return _files_urls(service_url, service_url, value["files"])
        raise ServerError(reason="the job result has no download address", details=redact(str(value)[:300]))
    if isinstance(value, list):
        return [u for v in value for u in urls_from_value(session, service_url, v, cancel)]
    if not isinstance(value, str) or not value.strip():
        raise ServerError(reason="the job result is empty", details=redact(str(value)[:300]))
    url = _resolve(service_url, value.strip())
    if _is_package_url(url):
        return [url]
    try:
        listing = get_json(session, url, cancel=cancel)
    except ArcGISOfflineTilesError as exc:
        LOG.info("Result %s is not a folder listing (%s); downloading it as is", redact(url), exc)
        return [url]
    files = listing.get("files") if isinstance(listing, dict) else None
    if not files:
        raise ServerError(reason="the job's output folder holds no file", details=redact(url))
    return _files_urls(service_url, url, files)


def _files_urls(service_url: str, folder_url: str, files: list) -> list[str]:
    urls = []
    for item in files:
        if isinstance(item, str):
            name, link = item, None
        elif isinstance(item, dict):
            name, link = str(item.get("name") or ""), item.get("url")
        else:
            continue
        candidate = _resolve(service_url, str(link)) if link else f"{folder_url.rstrip('/')}/{name}"
        if _is_package_url(name or candidate) or _is_package_url(candidate):
            urls.append(candidate)
    if not urls:
        raise ServerError(reason="the job's output folder holds no tile package",
                          details=redact(str(files)[:300]))
    return urls


# --- cancel and estimate -----------------------------------------------------------------------
def cancel_job(session: Any, job: Job) -> bool:
    """Ask the server to cancel (GP ``<job>/cancel``); best effort, True when the server accepted."""
    if job.protocol != GP:
        LOG.info("The %s protocol has no cancel operation; job %s keeps running on the server",
                 job.protocol, job.job_id)
        return False
    for url in job.candidate_urls():
        try:
            doc = post_json(session, f"{url}/cancel", {})
        except ServiceNotFoundError:
            continue
        except ArcGISOfflineTilesError as exc:
            LOG.warning("Cancelling job %s failed: %s", job.job_id, exc)
            return False
        LOG.info("Cancel of job %s: %s", job.job_id, (doc or {}).get("jobStatus"))
        return True
    return False


@dataclass(frozen=True)
class Estimate:
    total_bytes: int
    total_tiles: int


def parse_estimate(value: Any) -> Estimate:
    if isinstance(value, dict) and ("totalSize" in value or "totalTilesToExport" in value):
        return Estimate(total_bytes=_int(value.get("totalSize")), total_tiles=_int(value.get("totalTilesToExport")))
    raise ServerError(reason="the size estimate has an unexpected shape", details=redact(str(value)[:300]))
