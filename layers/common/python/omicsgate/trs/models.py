"""GA4GH TRS 2.1 answers (``Tool``, ``ToolVersion``, ``FileWrapper``...) and the
trs-filer-compatible bodies of the write API (``ToolRegister``, ``ToolVersionRegister``)."""

from __future__ import annotations

from enum import StrEnum
from typing import Any, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field


class DescriptorType(StrEnum):
    CWL = "CWL"
    WDL = "WDL"
    NFL = "NFL"
    GALAXY = "GALAXY"
    SMK = "SMK"


class FileType(StrEnum):
    TEST_FILE = "TEST_FILE"
    PRIMARY_DESCRIPTOR = "PRIMARY_DESCRIPTOR"
    SECONDARY_DESCRIPTOR = "SECONDARY_DESCRIPTOR"
    CONTAINERFILE = "CONTAINERFILE"
    OTHER = "OTHER"


class ImageType(StrEnum):
    Docker = "Docker"
    Singularity = "Singularity"
    Conda = "Conda"


class Checksum(BaseModel):
    checksum: str
    type: str = "sha-256"


class ToolClass(BaseModel):
    id: str | None = None
    name: str | None = None
    description: str | None = None


class ImageData(BaseModel):
    registry_host: str | None = None
    image_name: str | None = None
    size: int | None = None
    updated: str | None = None
    checksum: list[Checksum] | None = None
    image_type: ImageType | None = None


# TRS 2.1 only adds fields to TRS 2.0.1's answers: each 2.1 model extends its 2.0.1 one.
# The legacy /api/ga4gh/v2 base path answers in TRS 2.0.1's shapes (``trs_2_0_1``): 2.0.1
# clients such as trs-cli 0.7.0 refuse any field they do not know.
class ToolVersion201(BaseModel):
    author: list[str] | None = None
    name: str | None = None
    url: str
    id: str
    is_production: bool | None = None
    images: list[ImageData] | None = None
    descriptor_type: list[DescriptorType] | None = None
    containerfile: bool | None = None
    meta_version: str | None = None
    verified: bool | None = None
    verified_source: list[str] | None = None
    signed: bool | None = None
    included_apps: list[str] | None = None


class ToolVersion(ToolVersion201):
    descriptor_type_version: dict[str, list[str]] | None = None


class Tool201(BaseModel):
    url: str
    id: str
    aliases: list[str] | None = None
    organization: str
    name: str | None = None
    toolclass: ToolClass
    description: str | None = None
    meta_version: str | None = None
    has_checker: bool | None = None
    checker_url: str | None = None
    versions: list[ToolVersion201]


class Tool(Tool201):
    versions: list[ToolVersion]  # type: ignore[assignment]  # the 2.1 versions


class FileWrapper201(BaseModel):
    content: str | None = None
    checksum: list[Checksum] | None = None
    url: str | None = None


class FileWrapper(FileWrapper201):
    image_type: ImageType | DescriptorType | None = None


class ToolFile201(BaseModel):
    path: str | None = None
    file_type: FileType | None = None


class ToolFile(ToolFile201):
    checksum: Checksum | None = None


_TRS_2_0_1: dict[Any, Any] = {
    Tool: Tool201,
    ToolVersion: ToolVersion201,
    FileWrapper: FileWrapper201,
    ToolFile: ToolFile201,
}


def trs_2_0_1(model: Any) -> Any:
    """The TRS 2.0.1 answer model of a TRS 2.1 one (``list[Tool]`` -> ``list[Tool201]``):
    FastAPI serialises an answer through it, so the fields TRS 2.1 added
    (``ToolVersion.descriptor_type_version``, ``FileWrapper.image_type``,
    ``ToolFile.checksum``) are left out and nothing else changes."""
    if get_origin(model) is list:
        (item,) = get_args(model)
        return list[trs_2_0_1(item)]  # type: ignore[misc]
    return _TRS_2_0_1.get(model, model)


class ServiceType(BaseModel):
    group: str
    artifact: str
    version: str


class Organization(BaseModel):
    name: str
    url: str


class ServiceInfo(BaseModel):
    id: str
    name: str
    type: ServiceType
    description: str | None = None
    organization: Organization
    contactUrl: str | None = None
    documentationUrl: str | None = None
    createdAt: str | None = None
    updatedAt: str | None = None
    environment: str | None = None
    version: str


# ---------------------------------------------------------------- write bodies (trs-filer)
class _Body(BaseModel):
    model_config = ConfigDict(extra="ignore")


class ToolFileRegister(_Body):
    path: str
    file_type: FileType


class FileWrapperRegister(_Body):
    content: str | None = None
    url: str | None = None
    checksum: list[Checksum] | None = None
    image_type: ImageType | DescriptorType | None = None


class FilesRegister(_Body):
    tool_file: ToolFileRegister
    file_wrapper: FileWrapperRegister
    type: DescriptorType | None = None


class ImageDataRegister(_Body):
    registry_host: str | None = None
    image_name: str | None = None
    image_type: ImageType | None = None
    size: int | None = None
    updated: str | None = None
    checksum: list[Checksum] | None = None


class ToolVersionRegister(_Body):
    id: str | None = None
    name: str | None = None
    author: list[str] | None = None
    descriptor_type: list[DescriptorType] | None = None
    files: list[FilesRegister] = Field(default_factory=list)
    images: list[ImageDataRegister] | None = None
    included_apps: list[str] | None = None
    is_production: bool | None = None
    signed: bool | None = None
    verified: bool | None = None
    verified_source: list[str] | None = None


class ToolClassRegister(_Body):
    id: str | None = None
    name: str
    description: str | None = None


class ToolRegister(_Body):
    aliases: list[str] | None = None
    checker_url: str | None = None
    description: str | None = None
    has_checker: bool | None = None
    name: str | None = None
    organization: str
    toolclass: ToolClassRegister
    versions: list[ToolVersionRegister] = Field(default_factory=list)
    # OmicsGate's extension: the tool is visible only to callers in one of these groups.
    groups: list[str] | None = None


def drop_none(document: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in document.items() if v is not None}
