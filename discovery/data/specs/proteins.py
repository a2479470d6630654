"""Registry specs for protein datasets (DAVIS kinase binding, UniProt and PDB samples).

Read by :mod:`discovery.data._make_catalog`; see its docstring for the fields.
"""

from __future__ import annotations

from typing import Any

#: Works cited by the registered datasets, by key.
CITATIONS: dict[str, dict[str, str | None]] = {
    "davis": {
        "text": "Davis, M. I.; Hunt, J. P.; Herrgard, S.; Ciceri, P.; Wodicka, L. M.; Pallares, G.; Hocker, M.; "
        "Treiber, D. K.; Zarrinkar, P. P. Comprehensive analysis of kinase inhibitor selectivity. "
        "Nat. Biotechnol. 2011, 29, 1046-1051.",
        "doi": "10.1038/nbt.1990",
    },
    "moltrans": {
        "text": "Huang, K.; Xiao, C.; Glass, L. M.; Sun, J. MolTrans: Molecular Interaction Transformer for "
        "drug-target interaction prediction. Bioinformatics 2021, 37, 830-836.",
        "doi": "10.1093/bioinformatics/btaa880",
    },
    "biopython": {
        "text": "Cock, P. J. A.; Antao, T.; Chang, J. T.; Chapman, B. A.; Cox, C. J.; Dalke, A.; Friedberg, I.; "
        "Hamelryck, T.; Kauff, F.; Wilczynski, B.; de Hoon, M. J. L. Biopython: freely available Python tools "
        "for computational molecular biology and bioinformatics. Bioinformatics 2009, 25, 1422-1423.",
        "doi": "10.1093/bioinformatics/btp163",
    },
    "uniprot": {
        "text": "The UniProt Consortium. UniProt: the Universal Protein Knowledgebase in 2023. "
        "Nucleic Acids Res. 2023, 51, D523-D531.",
        "doi": "10.1093/nar/gkac1052",
    },
}

SPECS: list[dict[str, Any]] = [
    {
        "name": "davis",
        "aliases": ["davis-dti", "davis-kinase"],
        "category": "proteins",
        "description": "DAVIS kinase inhibitor binding as binary drug-target interactions (MolTrans split files "
        "train.csv and val.csv): SMILES, target amino-acid sequence, Label (1 = binds).",
        "files": ["proteins/davis/train.csv", "proteins/davis/val.csv"],
        "citations": ["davis", "moltrans"],
        "quirks": [
            "Only MolTrans's train and validation files are mirrored (no test file); the loader pools them and "
            "makes its own split (unseen proteins).",
            "The first column is an unnamed row index; drug_encoding/target_encoding are MolTrans settings, "
            "not data.",
            "Labels are binarised affinities (MolTrans: Kd < 30 nM positive); positives are a minority.",
        ],
    },
    {
        "name": "uniprot-samples",
        "aliases": ["swissprot-samples"],
        "category": "proteins",
        "description": "Four UniProt/SwissProt flat-file records (P04439, O95832, P16235, P0A186) and a protein "
        "FASTA file, from Biopython's test data.",
        "files": ["proteins/uniprot-samples/"],
        "citations": ["uniprot", "biopython"],
        "quirks": ["Test-sized: for exercising the readers, not for statistics."],
    },
    {
        "name": "pdb-samples",
        "aliases": ["structures"],
        "category": "proteins",
        "description": "Protein structures 1A8O (PDB and mmCIF) and 2XHE (mmCIF) from Biopython's test data.",
        "files": ["proteins/structures/"],
        "citations": ["biopython"],
        "quirks": ["Test-sized structure files."],
    },
]
