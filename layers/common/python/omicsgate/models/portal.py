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


class Eqtl(BaseModel):
    tissueSiteDetailId: str
    geneId: str
    variantId: str
    ref: str | None = Field(description="REF allele (null: the variant is not in the release)")
    alt: str | None
    pValueBeta: float | None
    log2aFC: float | None = Field(description="log2 allelic fold change (null: not computed)")


class EqtlResponse(BaseModel):
    eqtl: list[Eqtl]


class Xqtl(BaseModel):
    tissueSiteDetailId: str
    modality: str = Field(
        description="expression, isoforms, splicing, alt_TSS, alt_polyA or stability"
    )
    phenotypeId: str
    geneId: str
    variantId: str
    ref: str | None
    alt: str | None
    pValueBeta: float | None


class XqtlResponse(BaseModel):
    xqtl: list[Xqtl]


class SingleTissueEqtl(BaseModel):
    variantId: str
    pValue: float | None
    nes: float | None = Field(description="normalized effect size (tensorQTL's slope)")
    chromosome: str
    pos: int
    tissueSiteDetailId: str
    geneId: str


class SingleTissueEqtlResponse(BaseModel):
    singleTissueEqtl: list[SingleTissueEqtl]


class Dyneqtl(BaseModel):
    data: list[float | None] = Field(
        description="TPM of each genotyped sample of the tissue, in its sample order"
    )
    genotypes: list[int | None] = Field(description="ALT allele count 0/1/2 (null: no call)")
    geneId: str
    hetCount: int
    homoAltCount: int
    homoRefCount: int
    maf: float | None
    ref: str
    alt: str
    pValue: float | None
    pValueThreshold: float | None = Field(
        description="the gene's nominal p-value threshold in the tissue (null: none)"
    )
    tissueSiteDetailId: str
    variantId: str
    nes: float | None = Field(description="slope on inverse-normal transformed expression")
    slope: float | None
    tStatistic: float | None


class DyneqtlQuery(BaseModel):
    geneId: str = Field(min_length=1, max_length=128)
    variantId: str = Field(min_length=1, max_length=128)
    tissueSiteDetailId: str = Field(min_length=1, max_length=128)


class DyneqtlError(BaseModel):
    errorMessage: str
    geneId: str
    variantId: str
    tissueSiteDetailId: str


class DyneqtlBatchResponse(BaseModel):
    data: list[Dyneqtl]
    errors: list[DyneqtlError]
