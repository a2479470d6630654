"""Registry specs for the knowledge-graph datasets (Hetionet v1.0 and PharmacotherapyDB).

Read by :mod:`discovery.data._make_catalog`; see its docstring for the fields.
"""

from __future__ import annotations

from typing import Any

#: Works cited by the registered datasets, by key.
CITATIONS: dict[str, dict[str, str | None]] = {
    "hetionet": {
        "text": "Himmelstein, D. S.; Lizee, A.; Hessler, C.; Brueggeman, L.; Chen, S. L.; Hadley, D.; Green, A.; "
        "Khankhanian, P.; Baranzini, S. E. Systematic integration of biomedical knowledge prioritizes drugs "
        "for repurposing. eLife 2017, 6, e26726.",
        "doi": "10.7554/eLife.26726",
    },
    "pharmacotherapydb": {
        "text": "Himmelstein, D. S.; Khankhanian, P.; Hessler, C. S.; Green, A. J.; Baranzini, S. E. "
        "PharmacotherapyDB 1.0: the open catalog of drug therapies for disease. figshare 2016.",
        "doi": "10.6084/m9.figshare.3103054",
    },
}

SPECS: list[dict[str, Any]] = [
    {
        "name": "hetionet-nodes",
        "aliases": ["hetionet-v1.0-nodes"],
        "category": "kg",
        "description": "Hetionet v1.0 nodes (47,031 nodes of 11 types: id `Type::identifier`, name, kind), with the "
        "metagraph description (metanodes.tsv, metaedges.tsv: 24 edge types with abbreviations and counts).",
        "files": ["kg/hetionet/hetionet-v1.0-nodes.tsv", "kg/hetionet/metanodes.tsv", "kg/hetionet/metaedges.tsv"],
        "citations": ["hetionet"],
        "quirks": [
            "Node ids carry their type as a prefix (`Gene::1017`, `Disease::DOID:1612`); gene identifiers are "
            "Entrez Gene ids, diseases Disease Ontology ids, compounds DrugBank ids.",
            "1,800 genes and a few nodes of other types have no edge at all (see metanodes.tsv `unconnected_nodes`).",
        ],
    },
    {
        "name": "hetionet-5k",
        "aliases": ["hetionet-sampled", "hetionet-24"],
        "category": "kg",
        "description": "Hetionet v1.0 edges of all 24 edge types, each sampled to at most 5,000 edges "
        "(99,676 edges; complete for Compound-treats-Disease), as a gzipped SIF (source, metaedge, target).",
        "files": ["kg/hetionet/edges-5k.sif.gz"],
        "citations": ["hetionet"],
        "quirks": [
            "A sample: degrees, path counts and any metric computed on it differ from the full network.",
            "Undirected edges (e.g. GiG, DrD, CrC) are listed once; Gr>G is the only directed Gene-Gene edge.",
        ],
    },
    {
        "name": "hetionet-tiny",
        "aliases": ["hetionet-10", "edges-10"],
        "category": "kg",
        "description": "Hetionet v1.0 edges, 10 per edge type (240 edges), as a SIF; a test fixture.",
        "files": ["kg/hetionet/edges-10.sif"],
        "citations": ["hetionet"],
        "quirks": ["Use with hetionet-nodes for node names; too small for any evaluation beyond smoke tests."],
    },
    {
        "name": "hetionet-16",
        "aliases": ["hetionet-neo4j", "hetionet-acdg"],
        "category": "kg",
        "description": "Complete Hetionet v1.0 edges of the 16 edge types among Anatomy, Compound, Disease and Gene "
        "(765,796 edges; Neo4j import layout: one TSV per edge type with `:START_ID(Type)` / `:END_ID(Type)` "
        "headers and unprefixed ids), plus a nodes table.",
        "files": ["kg/hetionet-neo4j/nodes.tsv", "kg/hetionet-neo4j/edges/"],
        "source": "{repo} at {commit} (a Neo4j export of Hetionet v1.0)",
        "citations": ["hetionet"],
        "quirks": [
            "The file of Compound-resembles-Compound is misspelled `Compound_Resembles_Compund.tsv`; node types "
            "are read from the headers, not the file names.",
            "Anatomy-expresses-Gene (526,407 edges) is not part of this export.",
        ],
    },
    {
        "name": "hetionet-dag-sources",
        "aliases": ["dag-association", "disease-gene-sources"],
        "category": "kg",
        "description": "Hetionet v1.0 Disease-associates-Gene edges with their sources (DISEASES, DisGeNET, DOAF, "
        "GWAS Catalog) per pair: doid_id, doid_name, entrez_gene_id, gene_symbol, sources (|-separated), license.",
        "files": ["kg/hetionet/DaG-association.tsv"],
        "citations": ["hetionet"],
        "quirks": ["Per-row licenses differ by source (e.g. DisGeNET ODbL 1.0); the column is empty for CC0 rows."],
    },
    {
        "name": "hetionet-cbg-binding",
        "aliases": ["cbg-binding", "compound-gene-binding"],
        "category": "kg",
        "description": "Hetionet v1.0 Compound-binds-Gene edges with sources (DrugBank, BindingDB, DrugCentral), "
        "PubMed ids, actions and affinity in nM.",
        "files": ["kg/hetionet/CbG-binding.tsv"],
        "citations": ["hetionet"],
        "quirks": ["affinity_nM is empty for most DrugBank rows; licenses are per row (e.g. CC BY-NC 4.0)."],
    },
    {
        "name": "pharmacotherapydb",
        "aliases": ["indications", "pharmacotherapydb-1.0"],
        "category": "kg",
        "description": "PharmacotherapyDB 1.0: 1,388 physician-curated drug-disease pairs (DM disease-modifying, "
        "SYM symptomatic, NOT non-indication) between DrugBank compounds and Disease Ontology diseases.",
        "files": ["kg/pharmacotherapydb/indications.tsv"],
        "citations": ["pharmacotherapydb", "hetionet"],
        "quirks": [
            "Hetionet's Compound-treats-Disease edges are the 755 DM pairs; SYM pairs are Compound-palliates-Disease.",
            "Sources include CC BY-NC-SA material (see the license column of the data mirror).",
        ],
    },
]
