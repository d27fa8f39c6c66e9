"""Loaders for the staged data (``MLKD_DATA_ROOT``, default ``../shared/data``) and the hub copies."""

from mlkd_utils.data.bucc import BUCCData, load_bucc, read_bucc
from mlkd_utils.data.parallel import SOURCES, ParallelCorpus, available_sources, load_parallel, read_parallel_tsv
from mlkd_utils.data.report import REPORTS, LoadReport, reports_frame
from mlkd_utils.data.sts import CROSSLINGUAL, MONOLINGUAL, STS17_SUBSETS, STSData, load_sts17, load_stsb, read_sts_tsv
from mlkd_utils.data.tatoeba import TatoebaPair, load_tatoeba, read_tatoeba, tatoeba_languages

__all__ = [
    "BUCCData",
    "CROSSLINGUAL",
    "LoadReport",
    "MONOLINGUAL",
    "ParallelCorpus",
    "REPORTS",
    "SOURCES",
    "STS17_SUBSETS",
    "STSData",
    "TatoebaPair",
    "available_sources",
    "load_bucc",
    "load_parallel",
    "load_sts17",
    "load_stsb",
    "load_tatoeba",
    "read_bucc",
    "read_parallel_tsv",
    "read_sts_tsv",
    "read_tatoeba",
    "reports_frame",
    "tatoeba_languages",
]
