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


# Expression group ----------------------------------------------------------------------


class GeneExpression(BaseModel):
    data: list[float | None] = Field(
        description="TPM of each sample of the tissue, in its sample order (null: no value)"
    )
    datasetId: str
    geneId: str
    geneSymbol: str
    tissueSiteDetailId: str
    unit: Literal["TPM"] = "TPM"


class GeneExpressionResponse(BaseModel):
    geneExpression: list[GeneExpression]


class Clusters(BaseModel):
    gene: str = Field(description='Newick with branch lengths, or "Not enough data"')
    tissue: str = Field(description='Newick with branch lengths, or "Not enough data"')


class MedianGeneExpression(BaseModel):
    geneId: str
    tissueSiteDetailId: str
    median: float | None = Field(description="median TPM of the tissue's samples")


class MedianGeneExpressionResponse(BaseModel):
    clusters: Clusters
    medianGeneExpression: list[MedianGeneExpression]


class TopExpressedGene(BaseModel):
    chromosome: str
    datasetId: str
    geneId: str
    median: float
    tissueSiteDetailId: str
    unit: Literal["TPM"] = "TPM"


class TopExpressedGeneResponse(BaseModel):
    topExpressedGene: list[TopExpressedGene]
