"""Registry specs for the molecule datasets (MoleculeNet copies in the data mirror).

Read by :mod:`discovery.data._make_catalog`; see its docstring for the fields.
"""

from __future__ import annotations

from typing import Any

#: Works cited by the registered datasets, by key.
CITATIONS: dict[str, dict[str, str | None]] = {
    "moleculenet": {
        "text": "Wu, Z.; Ramsundar, B.; Feinberg, E. N.; Gomes, J.; Geniesse, C.; Pappu, A. S.; "
        "Leswing, K.; Pande, V. MoleculeNet: a benchmark for molecular machine learning. "
        "Chem. Sci. 2018, 9, 513-530.",
        "doi": "10.1039/C7SC02664A",
    },
    "chemprop": {
        "text": "Heid, E.; Greenman, K. P.; Chung, Y.; Li, S.-C.; Graff, D. E.; Vermeire, F. H.; Wu, H.; "
        "Green, W. H.; McGill, C. J. Chemprop: A Machine Learning Package for Chemical Property "
        "Prediction. J. Chem. Inf. Model. 2024, 64, 9-17.",
        "doi": "10.1021/acs.jcim.3c01250",
    },
    "esol": {
        "text": "Delaney, J. S. ESOL: Estimating Aqueous Solubility Directly from Molecular Structure. "
        "J. Chem. Inf. Comput. Sci. 2004, 44, 1000-1005.",
        "doi": "10.1021/ci034243x",
    },
    "freesolv": {
        "text": "Mobley, D. L.; Guthrie, J. P. FreeSolv: a database of experimental and calculated "
        "hydration free energies, with input files. J. Comput.-Aided Mol. Des. 2014, 28, 711-720.",
        "doi": "10.1007/s10822-014-9747-x",
    },
    "lipophilicity": {
        "text": "AstraZeneca. Experimental in vitro DMPK and physicochemical data on a set of publicly "
        "disclosed compounds. ChEMBL deposited data set CHEMBL3301361, 2015.",
        "url": "https://www.ebi.ac.uk/chembl/document_report_card/CHEMBL3301361/",
    },
    "bbbp": {
        "text": "Martins, I. F.; Teixeira, A. L.; Pinheiro, L.; Falcao, A. O. A Bayesian approach to "
        "in silico blood-brain barrier penetration modeling. J. Chem. Inf. Model. 2012, 52, 1686-1697.",
        "doi": "10.1021/ci300124c",
    },
    "bace": {
        "text": "Subramanian, G.; Ramsundar, B.; Pande, V.; Denny, R. A. Computational Modeling of "
        "beta-Secretase 1 (BACE-1) Inhibitors Using Ligand Based Approaches. J. Chem. Inf. Model. "
        "2016, 56, 1936-1949.",
        "doi": "10.1021/acs.jcim.6b00290",
    },
    "clintox": {
        "text": "Gayvert, K. M.; Madhukar, N. S.; Elemento, O. A Data-Driven Approach to Predicting "
        "Successes and Failures of Clinical Trials. Cell Chem. Biol. 2016, 23, 1294-1301.",
        "doi": "10.1016/j.chembiol.2016.07.023",
    },
    "sider": {
        "text": "Kuhn, M.; Letunic, I.; Jensen, L. J.; Bork, P. The SIDER database of drugs and side "
        "effects. Nucleic Acids Res. 2016, 44, D1075-D1079.",
        "doi": "10.1093/nar/gkv1075",
    },
    "tox21": {
        "text": "Tox21 Data Challenge 2014. National Center for Advancing Translational Sciences (NIH), "
        "with EPA and NIEHS/NTP.",
        "url": "https://tripod.nih.gov/tox21/challenge/",
    },
    "hiv": {
        "text": "DTP AIDS Antiviral Screen. Developmental Therapeutics Program, National Cancer Institute.",
        "url": "https://wiki.nci.nih.gov/display/NCIDTPdata/AIDS+Antiviral+Screen+Data",
    },
}

_CHEMPROP_SOURCE = (
    "MoleculeNet copy from the Chemprop repository (chemprop/chemprop, MIT license), "
    "commit {commit}, {source_path}"
)

#: Hand-written part of every registered dataset. ``target_columns="*"``
#: means every column except the SMILES column, in file order.
SPECS: list[dict[str, Any]] = [
    {
        "name": "esol",
        "source": _CHEMPROP_SOURCE,
        "aliases": ["delaney", "esol-delaney"],
        "category": "molecules",
        "description": "Measured aqueous solubility of 1,128 small organic molecules (Delaney's ESOL set), "
        "as log10 of the solubility in mol/L.",
        "files": ["molecules/delaney.csv"],
        "task": "regression",
        "smiles_column": "smiles",
        "target_columns": ["logp"],
        "target_description": "logp: measured log10(aqueous solubility / (mol/L)) - NOT a partition "
        "coefficient despite the column name.",
        "citations": ["esol", "moleculenet", "chemprop"],
        "quirks": [
            "The target column is named `logp` but holds log10 aqueous solubility in mol/L (log S), not logP; "
            "the name is kept so files stay byte-identical to the source.",
            "5 SMILES occur twice (rows 215/978, 235/278, 452/1021, 682/1071, 705/824); 3 of the pairs "
            "disagree (235/278: 0.06 vs 1.09 log units), so deduplicate before splitting.",
        ],
    },
    {
        "name": "freesolv",
        "source": _CHEMPROP_SOURCE,
        "aliases": ["sampl", "hydration-free-energy"],
        "category": "molecules",
        "description": "Experimental hydration free energies of 642 small neutral molecules in water (FreeSolv), "
        "in kcal/mol.",
        "files": ["molecules/freesolv.csv"],
        "task": "regression",
        "smiles_column": "smiles",
        "target_columns": ["freesolv"],
        "target_description": "freesolv: experimental hydration free energy, kcal/mol (negative = favourable).",
        "citations": ["freesolv", "moleculenet", "chemprop"],
        "quirks": [
            "The target column is named after the dataset (`freesolv`); it is the experimental value only "
            "(the calculated free energy of the original database is not included).",
        ],
    },
    {
        "name": "lipophilicity",
        "source": _CHEMPROP_SOURCE,
        "aliases": ["lipo", "logd", "lipophilicity-astrazeneca"],
        "category": "molecules",
        "description": "Octanol/water distribution coefficient (logD at pH 7.4) of 4,200 compounds measured by "
        "AstraZeneca and deposited in ChEMBL.",
        "files": ["molecules/lipo.csv"],
        "task": "regression",
        "smiles_column": "smiles",
        "target_columns": ["lipo"],
        "target_description": "lipo: logD (octanol/buffer, pH 7.4), dimensionless log10 ratio, range -1.5 to 4.5.",
        "citations": ["lipophilicity", "moleculenet", "chemprop"],
        "quirks": [
            "The target column is named `lipo`; it is logD at pH 7.4 (distribution, ionisation included), "
            "not logP. Values span the assay range -1.5 to 4.5 (1 compound at -1.5, 4 at 4.5).",
        ],
    },
    {
        "name": "bbbp",
        "source": _CHEMPROP_SOURCE,
        "aliases": ["blood-brain-barrier", "bbb"],
        "category": "molecules",
        "description": "Blood-brain barrier penetration (yes/no) of 2,039 compounds (Martins et al.).",
        "files": ["molecules/bbbp.csv"],
        "task": "classification",
        "smiles_column": "smiles",
        "target_columns": ["p_np"],
        "target_description": "p_np: 1 = penetrates the blood-brain barrier, 0 = does not.",
        "citations": ["bbbp", "moleculenet", "chemprop"],
        "quirks": [
            "2,039 rows, 11 fewer than the 2,050 compounds MoleculeNet lists for BBBP.",
            "Imbalanced: 76.5% positive.",
            "105 SMILES have several fragments (salts and counter-ions such as `[Cl].`); "
            "strip salts before featurizing.",
        ],
    },
    {
        "name": "bace",
        "source": _CHEMPROP_SOURCE,
        "aliases": ["bace1", "bace-classification"],
        "category": "molecules",
        "description": "Binary inhibition label of 1,513 inhibitors of human beta-secretase 1 (BACE-1).",
        "files": ["molecules/bace.csv"],
        "task": "classification",
        "smiles_column": "mol",
        "target_columns": ["Class"],
        "target_description": "Class: 1 = inhibitor (active), 0 = inactive, from the MoleculeNet BACE "
        "classification task.",
        "citations": ["bace", "moleculenet", "chemprop"],
        "quirks": [
            "The SMILES column is named `mol`, not `smiles`; the label column is `Class` (capital C).",
            "Only the binary label is included (no pIC50 column, unlike MoleculeNet's bace.csv).",
            "SMILES are drawn protonated (e.g. `[NH2+]`), as in the source.",
        ],
    },
    {
        "name": "clintox",
        "source": _CHEMPROP_SOURCE,
        "aliases": ["clin-tox"],
        "category": "molecules",
        "description": "FDA approval status and clinical-trial toxicity failure of 1,478 drugs and drug "
        "candidates (two binary tasks).",
        "files": ["molecules/clintox.csv"],
        "task": "classification",
        "smiles_column": "smiles",
        "target_columns": ["FDA_APPROVED", "CT_TOX"],
        "target_description": "FDA_APPROVED: 1 = approved by the FDA; CT_TOX: 1 = failed clinical trials for "
        "toxicity.",
        "citations": ["clintox", "moleculenet", "chemprop"],
        "quirks": [
            "Row 2 contains a `*` dummy atom (a polymer end group); 14 SMILES have several fragments.",
            "CT_TOX is rare (7.6% positive); FDA_APPROVED is mostly positive (93.6%).",
        ],
    },
    {
        "name": "sider",
        "source": _CHEMPROP_SOURCE,
        "aliases": ["side-effects"],
        "category": "molecules",
        "description": "Adverse drug reactions of 1,427 marketed drugs, grouped into 27 MedDRA system organ "
        "classes (27 binary tasks).",
        "files": ["molecules/sider.csv"],
        "task": "classification",
        "smiles_column": "smiles",
        "target_columns": "*",
        "target_description": "One column per MedDRA system organ class: 1 = the drug has a reported side "
        "effect in that class.",
        "citations": ["sider", "moleculenet", "chemprop"],
        "quirks": [
            "Target column names are long MedDRA class names, several with commas and parentheses "
            "(quoted in the CSV); copy them exactly from `discovery data info sider` (or its `--json`).",
            "182 SMILES have several fragments (salts, mixtures).",
        ],
    },
    {
        "name": "tox21",
        "source": _CHEMPROP_SOURCE,
        "aliases": ["tox-21"],
        "category": "molecules",
        "description": "Activity of 7,831 compounds in 12 Tox21 nuclear-receptor and stress-response assays "
        "(12 binary tasks, with missing labels).",
        "files": ["molecules/tox21.csv"],
        "task": "classification",
        "smiles_column": "smiles",
        "target_columns": "*",
        "target_description": "NR-*: nuclear receptor assays, SR-*: stress response assays; 1 = active, "
        "0 = inactive, blank = not tested.",
        "citations": ["tox21", "moleculenet", "chemprop"],
        "quirks": [
            "17% of the labels are blank (compound not tested in that assay); they load as NaN and must be "
            "masked in the loss, not treated as 0.",
            "8 SMILES (rows 1324, 2292, 2299, 3560, 4567, 4651, 5540, 6725) fail RDKit 2026.03 sanitization "
            "(hypervalent Al and similar); the chem layer reports them as invalid rows.",
            "Strongly imbalanced: 2.9% (NR-PPAR-gamma) to 16.2% (SR-ARE) positive.",
        ],
    },
    {
        "name": "hiv",
        "source": _CHEMPROP_SOURCE,
        "aliases": ["hiv-active", "aids-antiviral"],
        "category": "molecules",
        "description": "Inhibition of HIV replication for 41,127 compounds from the DTP AIDS Antiviral Screen "
        "(confirmed/moderately active vs inactive).",
        "files": ["molecules/hiv.csv.gz"],
        "task": "classification",
        "smiles_column": "smiles",
        "target_columns": ["HIV_active"],
        "target_description": "HIV_active: 1 = confirmed active (CA) or moderately active (CM), 0 = confirmed "
        "inactive (CI).",
        "citations": ["hiv", "moleculenet", "chemprop"],
        "quirks": [
            "Gzip-compressed CSV (`hiv.csv.gz`); read it with compression, the loader does.",
            "7 SMILES (rows 139, 989, 12884, 18295, 30786, 30787, 35730) fail RDKit 2026.03 sanitization "
            "(hypervalent Al, B).",
            "Rare positives: 3.5%.",
        ],
    },
]
