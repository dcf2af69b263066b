"""Response models of the OpenGWAS API group."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class Allowance(BaseModel):
    limit: int
    remaining: int
    reset: int


class UserInfo(BaseModel):
    uid: str
    first_name: str
    last_name: str
    jwt_valid_until: str
    roles: list[str]
    tags: list[str]
    groups: list[str]
    tier: str
    allowance: Allowance


class RequestInfo(BaseModel):
    client: str
    ip: str


class UserResponse(BaseModel):
    user: UserInfo
    request: RequestInfo


# OpenGWAS v4 resources -------------------------------------------------------------------


class Status(BaseModel):
    """GET /status (OpenGWAS's keys; counts are of the studies the caller may see)."""

    API__VERSION: str
    SERVICES__METADATA: str
    SERVICES__ASSOCIATIONS: str
    REFERENCES__LD_REF_PANEL: str
    STATISTICS__N_DATASETS: int
    STATISTICS__N_PUBLIC_DATASETS: int


class Batch(BaseModel):
    id: str
    count: int


class GwasInfo(BaseModel):
    """A study's metadata: ``id`` and ``trait`` always, every other field the study has
    (OpenGWAS's GwasInfo: build, group_name, category, population, sex, author, nsnp,
    sample_size, year, unit, ncase, ncontrol, pmid, doi, ...)."""

    model_config = ConfigDict(extra="allow")

    id: str
    trait: str | None = None


class Association(BaseModel):
    """One association record; ``p`` is 10^-LP of the GWAS-VCF, ``ea`` its ALT allele."""

    id: str
    trait: str
    chr: str
    position: int
    rsid: str
    ea: str
    nea: str
    eaf: float | None
    beta: float
    se: float
    p: float
    n: float | None


class ProxiedAssociation(Association):
    """An association record of ``/associations`` with ``proxies=1``: ``proxy`` says
    whether it was found through an LD proxy; ``target_a1``/``proxy_a1`` (and ``_a2``)
    are the alleles on the same haplotype. Null allele fields on direct records."""

    target_snp: str | None = None
    proxy_snp: str | None = None
    proxy: bool | None = None
    target_a1: str | None = None
    target_a2: str | None = None
    proxy_a1: str | None = None
    proxy_a2: str | None = None


class LdMatrix(BaseModel):
    """POST /ld/matrix: ``rsid_A1_A2`` labels and signed r as strings (OpenGWAS's form)."""

    snplist: list[str]
    matrix: list[list[str]]


class Afl2Variant(BaseModel):
    """POST /variants/afl2 and GET /variants/afl2/snplist: a panel SNP (ALT = the panel's
    A1) with ``AF.<POP>`` (ALT's frequency) and ``L2.<POP>`` (LD score) per population."""

    model_config = ConfigDict(extra="allow")

    rsid: str
    chr: str
    pos: int
    ref: str
    alt: str


class VariantSource(BaseModel):
    dbSNPBuildID: str | None
    ID: str | None
    CHROM: str
    POS: int
    REF: str
    ALT: str


class RsidVariant(BaseModel):
    """POST /variants/rsid, as OpenGWAS answers it."""

    id_: str = Field(alias="_id", serialization_alias="_id")
    source: VariantSource = Field(alias="_source", serialization_alias="_source")

    model_config = ConfigDict(populate_by_name=True)


class PositionVariant(VariantSource):
    """POST /variants/chrpos and GET /variants/gene/{gene}: ``query`` is the request item."""

    query: str


class LegacyVariant(PositionVariant):
    """GET /variants/chrpos/{chrpos} (the form ieugwaspy calls): ``_id`` is the rsid."""

    id_: str | None = Field(alias="_id", serialization_alias="_id")

    model_config = ConfigDict(populate_by_name=True)
