"""The :class:`Emulator`: a local ArcGIS Server / ArcGIS Online look-alike on 127.0.0.1.

```python
with Emulator() as emu:                                   # port 0 = any free port
    emu.service_url("World_Map", "MapServer")             # http://127.0.0.1:PORT/arcgis/rest/services/...
    emu.configure("World_Map/MapServer", max_export_tiles=50, job_steps=3, result_shape="folder")
    emu.inject("http_error", status=503, count=2, path="/exportTiles")
    emu.requests                                          # what clients sent
```

Services (keys as used by :meth:`Emulator.configure`): the four samples
``World_Vector/VectorTileServer``, ``World_Map/MapServer``, ``World_Imagery/ImageServer``,
``World_Geographic/MapServer``, plus ``Secured/World_Map/MapServer`` (token required) and
``World_Basemap_Export_v2/VectorTileServer`` (ArcGIS Online job protocol).
"""
from __future__ import annotations

import copy
import hashlib
import logging
import math
import shutil
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from .auth import DEFAULT_USERS, Presigner, TokenStore
from .faults import Fault, FaultSet, make_fault
from .jobs import NEW, SUBMITTED, Job

log = logging.getLogger(__name__)

SERVICE_KINDS = ("MapServer", "ImageServer", "VectorTileServer")
JOB_PROTOCOLS = ("gp", "online")
RESULT_SHAPES = ("url_dict", "file_url", "folder")
CACHE_RESULTS = ("folder", "zip")  # tilePackage=false: a folder of files, or the cache zipped
ONLINE_STATUS_STYLES = ("esri", "stats")
SECURED_FOLDER = "Secured"
ONLINE_NAME = "World_Basemap_Export_v2"
DEFAULT_VERSION = 11.1
ONLINE_ORG_ID = "Em7uLat0rOrg1d00"  # the "organisation" hosting the Online-style services


def _stable_id(text: str, length: int = 16) -> str:
    return hashlib.sha1(text.encode()).hexdigest()[:length]


@dataclass
class ServiceConfig:
    """Per-service behaviour (see :meth:`Emulator.configure`)."""

    max_export_tiles: int = 100000
    export_allowed: bool = True
    version: float = DEFAULT_VERSION
    job_protocol: str = "gp"
    result_shape: str = "url_dict"
    job_steps: int = 2
    job_step_delay_s: float = 0.0
    secured: bool = False
    token_lifetime_s: float | None = None
    http_errors_as_status: bool = False
    submit_status: str = SUBMITTED
    online_status_style: str = "esri"
    gp_progress: bool = True
    output_urls: int = 1
    cache_result: str = "folder"

    def validate(self) -> None:
        if self.job_protocol not in JOB_PROTOCOLS:
            raise ValueError(f"job_protocol must be one of {JOB_PROTOCOLS}")
        if self.result_shape not in RESULT_SHAPES:
            raise ValueError(f"result_shape must be one of {RESULT_SHAPES}")
        if self.cache_result not in CACHE_RESULTS:
            raise ValueError(f"cache_result must be one of {CACHE_RESULTS}")
        if self.online_status_style not in ONLINE_STATUS_STYLES:
            raise ValueError(f"online_status_style must be one of {ONLINE_STATUS_STYLES}")
        if self.submit_status not in (NEW, SUBMITTED):
            raise ValueError(f"submit_status must be {NEW} or {SUBMITTED}")
        if int(self.output_urls) < 1:
            raise ValueError("output_urls must be >= 1")
        if int(self.max_export_tiles) < 0 or int(self.job_steps) < 0 or float(self.job_step_delay_s) < 0:
            raise ValueError("max_export_tiles, job_steps and job_step_delay_s must be >= 0")


@dataclass
class ServerConfig:
    """Server-wide behaviour (see :meth:`Emulator.configure_server`)."""

    token_lifetime_s: float | None = None  # caps the lifetime of new tokens (generateToken)
    http_errors_as_status: bool = False  # for routes outside a service (catalog, unknown paths, tokens)
    presigned_expires_s: int = 3600
    version: float = DEFAULT_VERSION  # currentVersion of the catalog and info resources


_COERCE = {
    "max_export_tiles": int, "export_allowed": bool, "version": float, "job_protocol": str,
    "result_shape": str, "job_steps": int, "job_step_delay_s": float, "secured": bool,
    "token_lifetime_s": lambda v: None if v is None else float(v), "http_errors_as_status": bool,
    "submit_status": str, "online_status_style": str, "presigned_expires_s": int, "gp_progress": bool,
    "output_urls": int, "cache_result": str,
}


def _coerce(name: str, value: Any) -> Any:
    conv = _COERCE.get(name)
    if conv is bool and isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return conv(value) if conv is not None else value


@dataclass
class ServiceEntry:
    folder: str | None
    name: str
    kind: str
    sample: Any
    defaults: ServiceConfig
    config: ServiceConfig = field(init=False)

    def __post_init__(self) -> None:
        self.config = replace(self.defaults)

    @property
    def key(self) -> str:
        return f"{self.folder}/{self.name}/{self.kind}" if self.folder else f"{self.name}/{self.kind}"

    @property
    def full_name(self) -> str:
        return f"{self.folder}/{self.name}" if self.folder else self.name

    def document(self) -> dict:
        """The sample's ``?f=json`` document with this service's configuration applied."""
        doc = copy.deepcopy(self.sample.document)
        cfg = self.config
        doc["currentVersion"] = cfg.version
        doc["exportTilesAllowed"] = bool(cfg.export_allowed)
        doc["maxExportTilesCount"] = int(cfg.max_export_tiles)
        if self.kind == "VectorTileServer" or "name" in doc:
            doc["name"] = self.name
        if cfg.job_protocol == "online":
            # the hosting fields ArcGIS Online's tile servers add to a hosted layer's description
            doc.update({"id": _stable_id(self.key), "server": ONLINE_ORG_ID,
                        "access": "SECURE" if cfg.secured else "PUBLIC", "status": "created",
                        "serviceItemId": _stable_id("item:" + self.key, 32)})
        return doc


@dataclass
class RecordedRequest:
    """One request as the emulator received it."""

    method: str
    path: str
    args: dict[str, str]
    form: dict[str, str]
    headers: dict[str, str]
    time: float
    status: int | None = None

    @property
    def params(self) -> dict[str, str]:
        """Query and form parameters merged (form wins), as the server reads them."""
        return {**self.args, **self.form}

    def header(self, name: str) -> str | None:
        lname = name.lower()
        return next((v for k, v in self.headers.items() if k.lower() == lname), None)

    def to_json(self) -> dict:
        return {"method": self.method, "path": self.path, "args": self.args, "form": self.form,
                "headers": self.headers, "time": self.time, "status": self.status}


class Emulator:
    """A real HTTP server (werkzeug, threaded) in a daemon thread.  See the module docstring."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, cache_dir: str | Path | None = None,
                 work_dir: str | Path | None = None, *, samples: dict[str, Any] | None = None,
                 writer=None, users: dict[str, str] | None = None) -> None:
        self.host = host
        self.port = port
        self.cache_dir = Path(cache_dir) if cache_dir else None
        self._work_parent = Path(work_dir) if work_dir else None
        self.work_dir: Path | None = None
        self._samples = samples
        self._writer = writer
        self.users: dict[str, str] = dict(DEFAULT_USERS if users is None else users)
        self._default_users = dict(self.users)
        self.server_config = ServerConfig()
        self.services: dict[str, ServiceEntry] = {}
        self.faults = FaultSet()
        self.tokens = TokenStore()
        self.presigner = Presigner()
        self._jobs: dict[str, Job] = {}
        self._requests: list[RecordedRequest] = []
        self._lock = threading.RLock()
        self._server = None
        self._thread: threading.Thread | None = None
        self.etag_generations: dict[str, int] = {}

    # ------------------------------------------------------------------------------ lifecycle
    def __enter__(self) -> Emulator:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self) -> Emulator:
        if self._server is not None:
            return self
        from werkzeug.serving import make_server

        from .server import QuietRequestHandler, make_app

        if self._samples is None:
            from .samples import load_sample_services

            self._samples = (load_sample_services(cache_dir=self.cache_dir) if self.cache_dir
                             else load_sample_services())
        if self._writer is None:
            from .writers import write_package

            self._writer = write_package
        self._build_services()
        if self._work_parent is not None:
            self._work_parent.mkdir(parents=True, exist_ok=True)
        self.work_dir = Path(tempfile.mkdtemp(prefix="arcgis-emulator-", dir=self._work_parent))
        self._server = make_server(self.host, self.port, make_app(self), threaded=True,
                                   request_handler=QuietRequestHandler)
        self._server.daemon_threads = True
        self.port = self._server.server_port
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.1},
                                        name="arcgis-emulator", daemon=True)
        self._thread.start()
        log.info("ArcGIS emulator listening on %s", self.base_url)
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(10)
        self._server = None
        self._thread = None
        self._drop_jobs()
        if self.work_dir is not None:
            shutil.rmtree(self.work_dir, ignore_errors=True)
            self.work_dir = None

    @property
    def running(self) -> bool:
        return self._server is not None

    def _build_services(self) -> None:
        if self.services:
            return
        samples = self._samples
        for key, sample in samples.items():
            name, kind = key.rsplit("/", 1)
            self._add_service(None, name, kind, sample)
        world_map = samples.get("World_Map/MapServer")
        if world_map is not None:
            self._add_service(SECURED_FOLDER, "World_Map", "MapServer", world_map, secured=True)
        world_vector = samples.get("World_Vector/VectorTileServer")
        if world_vector is not None:
            self._add_service(None, ONLINE_NAME, "VectorTileServer", world_vector, job_protocol="online")

    def _add_service(self, folder: str | None, name: str, kind: str, sample: Any, **overrides: Any) -> None:
        doc = sample.document
        defaults = ServiceConfig(
            max_export_tiles=int(doc.get("maxExportTilesCount") or 100000),
            export_allowed=bool(doc.get("exportTilesAllowed", True)),
            version=float(doc.get("currentVersion") or DEFAULT_VERSION),
            **overrides,
        )
        entry = ServiceEntry(folder=folder, name=name, kind=kind, sample=sample, defaults=defaults)
        self.services[entry.key] = entry

    # ------------------------------------------------------------------------------ URLs
    @property
    def root_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT/arcgis`` (the "site" URL)."""
        return f"{self.root_url}/arcgis"

    @property
    def rest_url(self) -> str:
        return f"{self.base_url}/rest"

    @property
    def services_url(self) -> str:
        return f"{self.rest_url}/services"

    @property
    def token_url(self) -> str:
        return f"{self.base_url}/tokens/generateToken"

    @property
    def portal_token_url(self) -> str:
        return f"{self.base_url}/sharing/rest/generateToken"

    def service_url(self, name: str, kind: str, folder: str | None = None) -> str:
        if kind not in SERVICE_KINDS:
            raise ValueError(f"kind must be one of {SERVICE_KINDS}")
        prefix = f"{folder}/" if folder else ""
        return f"{self.services_url}/{prefix}{name}/{kind}"

    def url_for(self, service_key: str) -> str:
        """The URL of a service given its key (``"Secured/World_Map/MapServer"``)."""
        return f"{self.services_url}/{self.service(service_key).key}"

    @property
    def online_service_url(self) -> str:
        return self.service_url(ONLINE_NAME, "VectorTileServer")

    @property
    def secured_service_url(self) -> str:
        return self.service_url("World_Map", "MapServer", folder=SECURED_FOLDER)

    def service_urls(self) -> dict[str, str]:
        return {key: self.url_for(key) for key in self.services}

    # ------------------------------------------------------------------------------ configuration
    def service(self, service_key: str) -> ServiceEntry:
        key = service_key.strip("/")
        if key not in self.services:
            raise KeyError(f"unknown service {service_key!r}; known: {sorted(self.services)}")
        return self.services[key]

    def configure(self, service_key: str, **options: Any) -> ServiceConfig:
        """Change a service's behaviour; returns the new configuration.

        Options: ``max_export_tiles`` (int), ``export_allowed`` (bool), ``version`` (currentVersion),
        ``job_protocol`` ("gp" | "online"), ``result_shape`` ("url_dict" | "file_url" | "folder"),
        ``cache_result`` (tilePackage=false: "folder", the result folder holds the cache's files, or
        "zip", it holds the cache zipped; a folder result is always given as the folder's URL),
        ``job_steps`` (non-terminal polls before the result shows), ``job_step_delay_s`` (minimum
        seconds between counted polls), ``secured`` (token required), ``token_lifetime_s`` (a token
        stops working for this service that long after it was issued), ``http_errors_as_status``
        (real 4xx/5xx statuses instead of HTTP 200 error bodies), ``submit_status``
        ("esriJobSubmitted" | "esriJobNew": what the submit answer says), ``online_status_style``
        ("esri": jobStatus esriJob*, "stats": status SUBMITTED/INPROGRESS/DONE/FAILED/CANCELED),
        ``gp_progress`` (False: GP status without ``progress``, as before 10.8.1: clients have the
        ``messages`` only), ``output_urls`` (Online protocol: the package is split by level into that
        many files, each with its own ``output.outputUrl`` entry, as big Online exports are).
        """
        entry = self.service(service_key)
        known = {f.name for f in fields(ServiceConfig)}
        unknown = set(options) - known
        if unknown:
            raise ValueError(f"unknown option(s) {sorted(unknown)}; known: {sorted(known)}")
        with self._lock:
            new = replace(entry.config, **{k: _coerce(k, v) for k, v in options.items()})
            new.validate()
            entry.config = new
            return replace(new)

    def configure_all(self, **options: Any) -> None:
        """:meth:`configure` every service with the same options."""
        for key in list(self.services):
            self.configure(key, **options)

    def configure_defaults(self, service_key: str | None = None, **options: Any) -> None:
        """Change the *defaults* (what :meth:`reset` returns to) of one service or, with None, of
        every service; the current configuration changes too.  Used by ``serve --max-export-tiles``."""
        keys = [self.service(service_key).key] if service_key else list(self.services)
        for key in keys:
            self.configure(key, **options)
            entry = self.services[key]
            with self._lock:
                entry.defaults = replace(entry.defaults, **{k: _coerce(k, v) for k, v in options.items()})

    def configure_server(self, **options: Any) -> ServerConfig:
        """Server-wide options: ``token_lifetime_s`` (cap for new tokens), ``http_errors_as_status``
        (routes outside services), ``presigned_expires_s``, ``version``."""
        known = {f.name for f in fields(ServerConfig)}
        unknown = set(options) - known
        if unknown:
            raise ValueError(f"unknown server option(s) {sorted(unknown)}; known: {sorted(known)}")
        with self._lock:
            self.server_config = replace(self.server_config,
                                         **{k: _coerce(k, v) for k, v in options.items()})
            return replace(self.server_config)

    def config(self, service_key: str) -> ServiceConfig:
        return replace(self.service(service_key).config)

    def config_json(self) -> dict:
        return {"server": asdict(self.server_config),
                "services": {key: asdict(entry.config) for key, entry in self.services.items()},
                "users": sorted(self.users)}

    def reset(self) -> None:
        """Default configuration, no faults, empty request log, no jobs, default users, no tokens."""
        with self._lock:
            for entry in self.services.values():
                entry.config = replace(entry.defaults)
            self.server_config = ServerConfig()
            self.users.clear()
            self.users.update(self._default_users)
            self._requests.clear()
            self.etag_generations.clear()
        self.faults.clear()
        self.tokens.clear()
        self._drop_jobs()

    # ------------------------------------------------------------------------------ faults
    def inject(self, kind: str, count: int | None = 1, path: str | None = None, **options: Any) -> Fault:
        """Arm a fault (see :mod:`arcgis_emulator.faults` for kinds and options)."""
        return self.faults.add(make_fault(kind, count=count, path=path, **options))

    def clear_faults(self) -> None:
        self.faults.clear()

    # ------------------------------------------------------------------------------ request log
    def record(self, entry: RecordedRequest) -> None:
        with self._lock:
            self._requests.append(entry)

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    def requests_to(self, path_part: str, method: str | None = None) -> list[RecordedRequest]:
        return [r for r in self.requests if path_part in r.path and (method is None or r.method == method)]

    def clear_requests(self) -> None:
        with self._lock:
            self._requests.clear()

    # ------------------------------------------------------------------------------ tokens
    def issue_token(self, username: str = "analyst", lifetime_s: float = 3600) -> str:
        """A valid token without going through HTTP (test helper)."""
        return self.tokens.issue(username, lifetime_s).value

    def expire_tokens(self) -> None:
        """Make every issued token invalid (as if they had all expired)."""
        self.tokens.expire_all()

    # ------------------------------------------------------------------------------ jobs
    @property
    def jobs(self) -> dict[str, Job]:
        with self._lock:
            return dict(self._jobs)

    def job(self, job_id: str) -> Job:
        with self._lock:
            return self._jobs[job_id]

    def add_job(self, job: Job) -> None:
        with self._lock:
            self._jobs[job.id] = job

    def _drop_jobs(self) -> None:
        with self._lock:
            jobs = list(self._jobs.values())
            self._jobs.clear()
        for job in jobs:
            job.stop()
            job.delete_files()

    def max_concurrent_jobs(self) -> int:
        """The most jobs that were under way at once: each from its submit until a client was first
        shown its end (what a client's bound on parallel jobs limits)."""
        events = []
        for job in self.jobs.values():
            events.append((job.submitted_at, 1))
            events.append((job.ended_at if job.ended_at is not None else math.inf, -1))
        running = peak = 0
        for _, change in sorted(events):  # an end before a start at the same instant
            running += change
            peak = max(peak, running)
        return peak

    def wait_for_job(self, job_id: str, timeout: float = 60.0) -> Job:
        """Wait until a job's build thread is done (its status still needs the configured polls)."""
        job = self.job(job_id)
        if not job.wait(timeout):
            raise TimeoutError(f"job {job_id} still running after {timeout}s")
        return job

    # ------------------------------------------------------------------------------ downloads
    def presigned_path(self, job: Job, index: int = 0) -> str:
        """``/s3/export/<id>.vtpk``; ``/s3/export/<id>_<n>.vtpk`` for each file of a split result."""
        ext = Path(job.package_name or "x.vtpk").suffix
        number = f"_{index + 1}" if len(job.package_paths) > 1 else ""
        return f"/s3/export/{job.id}{number}{ext}"

    def sign_download_urls(self, job: Job, fresh: bool = False) -> list[str]:
        """The presigned S3-style URLs of an Online job's package files (signed once unless ``fresh``)."""
        if job.presigned_urls is None or fresh:
            urls = []
            for index in range(max(1, len(job.package_paths))):
                path = self.presigned_path(job, index)
                query = self.presigner.sign(path, self.server_config.presigned_expires_s)
                urls.append(f"{self.root_url}{path}?{query}")
            job.presigned_urls = urls
        return list(job.presigned_urls)

    def sign_download_url(self, job: Job, fresh: bool = False) -> str:
        """The presigned URL of an Online job's (first) package file."""
        return self.sign_download_urls(job, fresh)[0]

    def output_folder_url(self, job: Job, service: ServiceEntry) -> str:
        folder = f"{service.folder}/" if service.folder else ""
        return f"{self.rest_url}/directories/arcgisoutput/{folder}{service.name}_{service.kind}/_ags_{job.id}"

    def output_file_url(self, job: Job, service: ServiceEntry) -> str:
        return f"{self.output_folder_url(job, service)}/{job.package_name}"

    def etag_generation(self, job_id: str, bump: bool = False) -> int:
        with self._lock:
            if bump:
                self.etag_generations[job_id] = self.etag_generations.get(job_id, 0) + 1
            return self.etag_generations.get(job_id, 0)

    def now(self) -> float:
        return time.time()
