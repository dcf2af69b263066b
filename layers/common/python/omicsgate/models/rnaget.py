"""Response models of GA4GH RNAget 1.2 (field names as the spec spells them) and of
GA4GH service-info 1.0 with RNAget's ``supported`` parts."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class ServiceType(BaseModel):
    group: str
    artifact: str
    version: str


class Organization(BaseModel):
    name: str
    url: str


class Supported(BaseModel):
    """Which of RNAget's four parts this server implements (the others answer 501)."""

    projects: bool
    studies: bool
    expressions: bool
    continuous: bool


class ServiceInfo(BaseModel):
    id: str
    name: str
    type: ServiceType
    description: str
    organization: Organization
    documentationUrl: str
    environment: str
    version: str
    supported: Supported


class Project(BaseModel):
    # Responses leave out what an object does not have (no null fields).
    model_config = ConfigDict(extra="forbid")

    id: str
    version: str | None = None
    name: str | None = None
    description: str | None = None
    tags: list[str] | None = None


class Study(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    version: str | None = None
    name: str | None = None
    description: str | None = None
    parentProjectID: str | None = None
    genome: str | None = None
    tags: list[str] | None = None


class Filter(BaseModel):
    filter: str
    fieldType: str
    description: str
    values: list[str] | None = None  # left out where values are free (feature IDs, bounds)


class Ticket(BaseModel):
    """Where to download a matrix: ``url`` (the capability: no token needed), and what
    the file holds. ``headers`` are sent verbatim with the download when present."""

    model_config = ConfigDict(extra="forbid")

    url: str
    units: str
    version: str | None = None
    fileType: str | None = None
    studyID: str | None = None
    headers: dict[str, str] | None = None
    md5: str | None = None
