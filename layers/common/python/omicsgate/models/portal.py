"""Response models of the portal API (RatGTEx v4 field names, to the letter)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class TissueInfo(BaseModel):
    tissueSiteDetailId: str
    tissueSiteDetail: str
    tissueSite: str
    tissueSiteDetailAbbr: str
    colorHex: str
    colorRgb: str
    dataset: str
    datasetId: str
    rnaSeqSampleCount: int
    rnaSeqAndGenotypeSampleCount: int
    expressedGeneCount: int
    eGeneCount: int
    # The served data spells it hasEGenes (GTEx), the v4 spec hasEgenes: we send both.
    hasEGenes: bool
    hasEgenes: bool


class TissueInfoResponse(BaseModel):
    tissueInfo: list[TissueInfo]


class StatusInTissue(BaseModel):
    tissueSiteDetailId: str
    expressed: bool
    testedEqtl: bool
    eqtl: bool


class Gene(BaseModel):
    geneId: str
    chromosome: str
    start: int
    end: int
    strand: Literal["+", "-"]
    tss: int = Field(description="start on the + strand, end on the - strand")
    description: str
    hasEqtl: bool
    statusInTissue: list[StatusInTissue]


class GeneResponse(BaseModel):
    gene: list[Gene]


class Exon(BaseModel):
    chromosome: str
    end: int
    exonId: str
    exonNumber: int
    featureType: Literal["exon"] = "exon"
    geneId: str
    start: int
    strand: Literal["+", "-"]
    transcriptId: str


class ExonResponse(BaseModel):
    exon: list[Exon]


class Variant(BaseModel):
    alt: str
    chromosome: str
    pos: int
    ref: str
    variantId: str


class VariantResponse(BaseModel):
    variant: list[Variant]


class Dataset(BaseModel):
    datasetId: str
    description: str
    created: str
    current: bool


class DatasetResponse(BaseModel):
    dataset: list[Dataset]
