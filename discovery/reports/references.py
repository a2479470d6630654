"""References cited by report methods paragraphs, and dataset citations from the registry."""

from __future__ import annotations

from .registry import Reference

REFERENCES: dict[str, Reference] = {
    r.key: r
    for r in (
        Reference("dmpnn", "Yang, K.; Swanson, K.; Jin, W.; Coley, C.; Eiden, P.; Gao, H.; Guzman-Perez, A.; "
                  "Hopper, T.; Kelley, B.; Mathea, M.; Palmer, A.; Settels, V.; Jaakkola, T.; Jensen, K.; "
                  "Barzilay, R. Analyzing Learned Molecular Representations for Property Prediction. "
                  "J. Chem. Inf. Model. 2019, 59, 3370-3388.", doi="10.1021/acs.jcim.9b00237"),
        Reference("chemprop", "Heid, E.; Greenman, K. P.; Chung, Y.; Li, S.-C.; Graff, D. E.; Vermeire, F. H.; "
                  "Wu, H.; Green, W. H.; McGill, C. J. Chemprop: A Machine Learning Package for Chemical "
                  "Property Prediction. J. Chem. Inf. Model. 2024, 64, 9-17.", doi="10.1021/acs.jcim.3c01250"),
        Reference("gin", "Xu, K.; Hu, W.; Leskovec, J.; Jegelka, S. How Powerful are Graph Neural Networks? "
                  "International Conference on Learning Representations (ICLR) 2019. arXiv:1810.00826."),
        Reference("attentivefp", "Xiong, Z.; Wang, D.; Liu, X.; Zhong, F.; Wan, X.; Li, X.; Li, Z.; Luo, X.; "
                  "Chen, K.; Jiang, H.; Zheng, M. Pushing the Boundaries of Molecular Representation for Drug "
                  "Discovery with the Graph Attention Mechanism. J. Med. Chem. 2020, 63, 8749-8760.",
                  doi="10.1021/acs.jmedchem.9b00959"),
        Reference("ensembles", "Lakshminarayanan, B.; Pritzel, A.; Blundell, C. Simple and Scalable Predictive "
                  "Uncertainty Estimation using Deep Ensembles. Advances in Neural Information Processing "
                  "Systems 30 (NeurIPS) 2017. arXiv:1612.01474."),
        Reference("mcdropout", "Gal, Y.; Ghahramani, Z. Dropout as a Bayesian Approximation: Representing Model "
                  "Uncertainty in Deep Learning. Proceedings of the 33rd International Conference on Machine "
                  "Learning (ICML) 2016, PMLR 48, 1050-1059. arXiv:1506.02142."),
        Reference("uq-benchmark", "Tran, K.; Neiswanger, W.; Yoon, J.; Zhang, Q.; Xing, E.; Ulissi, Z. W. "
                  "Methods for comparing uncertainty quantifications for material property predictions. "
                  "Mach. Learn.: Sci. Technol. 2020, 1, 025006.", doi="10.1088/2632-2153/ab7e1a"),
        Reference("scaffold", "Bemis, G. W.; Murcko, M. A. The Properties of Known Drugs. 1. Molecular "
                  "Frameworks. J. Med. Chem. 1996, 39, 2887-2893.", doi="10.1021/jm9602928"),
        Reference("ecfp", "Rogers, D.; Hahn, M. Extended-Connectivity Fingerprints. J. Chem. Inf. Model. "
                  "2010, 50, 742-754.", doi="10.1021/ci100060z"),
        Reference("rdkit", "RDKit: Open-source cheminformatics software.", url="www.rdkit.org"),
        Reference("crippen", "Wildman, S. A.; Crippen, G. M. Prediction of Physicochemical Parameters by Atomic "
                  "Contributions. J. Chem. Inf. Comput. Sci. 1999, 39, 868-873.", doi="10.1021/ci990307l"),
        Reference("tpsa", "Ertl, P.; Rohde, B.; Selzer, P. Fast Calculation of Molecular Polar Surface Area as a "
                  "Sum of Fragment-Based Contributions and Its Application to the Prediction of Drug Transport "
                  "Properties. J. Med. Chem. 2000, 43, 3714-3717.", doi="10.1021/jm000942e"),
        Reference("labute-vsa", "Labute, P. A widely applicable set of descriptors. J. Mol. Graph. Model. 2000, "
                  "18, 464-477.", doi="10.1016/S1093-3263(00)00068-1"),
        Reference("kier-hall", "Hall, L. H.; Kier, L. B. The Molecular Connectivity Chi Indexes and Kappa Shape "
                  "Indexes in Structure-Property Modeling. Reviews in Computational Chemistry 1991, 2, 367-422.",
                  doi="10.1002/9780470125793.ch9"),
        Reference("stacking", "Wolpert, D. H. Stacked generalization. Neural Netw. 1992, 5, 241-259.",
                  doi="10.1016/S0893-6080(05)80023-1"),
        Reference("ensemble-selection", "Caruana, R.; Niculescu-Mizil, A.; Crew, G.; Ksikes, A. Ensemble Selection "
                  "from Libraries of Models. Proceedings of the 21st International Conference on Machine Learning "
                  "(ICML) 2004, 18.", doi="10.1145/1015330.1015432"),
        Reference("pyg", "Fey, M.; Lenssen, J. E. Fast Graph Representation Learning with PyTorch Geometric. "
                  "ICLR Workshop on Representation Learning on Graphs and Manifolds 2019. arXiv:1903.02428."),
        Reference("pytorch", "Paszke, A. et al. PyTorch: An Imperative Style, High-Performance Deep Learning "
                  "Library. Advances in Neural Information Processing Systems 32 (NeurIPS) 2019, 8024-8035. "
                  "arXiv:1912.01703."),
        Reference("lightning", "Falcon, W.; The PyTorch Lightning team. PyTorch Lightning. Software, 2019.",
                  doi="10.5281/zenodo.3828935"),
        Reference("matplotlib", "Hunter, J. D. Matplotlib: A 2D Graphics Environment. Comput. Sci. Eng. 2007, "
                  "9, 90-95.", doi="10.1109/MCSE.2007.55"),
    )
}


def ref(key: str) -> Reference:
    """A built-in reference by key (KeyError if unknown)."""
    return REFERENCES[key]


def registered_name_for_sha256(sha256: str | None) -> str | None:
    """Registry name of the dataset one of whose files has this sha256 (a fetched copy), else None."""
    if not sha256:
        return None
    try:
        from ..data import registry

        for info, f in registry.REGISTRY.files():
            if f.sha256 == sha256:
                return info.name
    except Exception:  # registry absent or broken: the run keeps its own name
        return None
    return None


def dataset_references(name: str) -> tuple[str | None, list[Reference], dict[str, str]]:
    """Canonical name, citations and facts of a dataset from :mod:`discovery.data`'s registry.

    Parameters
    ----------
    name : str
        Dataset name or alias (a file path or unknown name gives no citations).

    Returns
    -------
    canonical : str or None
        Registry name, or ``None`` when the dataset is not registered (or the
        registry is unavailable).
    references : list of Reference
        The dataset's citations, keys prefixed ``"data:"`` (empty when unknown).
    facts : dict
        ``description``, ``license``, ``source``, ``target_description`` (strings; empty when unknown).
    """
    try:
        from ..data import registry
    except Exception:  # registry absent or broken: a report is still possible
        return None, [], {}
    try:
        info = registry.get(name)
    except Exception:
        return None, [], {}
    refs = [Reference(f"data:{c.key}", c.text, doi=getattr(c, "doi", None), url=getattr(c, "url", None))
            for c in getattr(info, "citations", ())]
    facts = {
        "description": str(getattr(info, "description", "") or ""),
        "license": str(getattr(info, "license", "") or ""),
        "source": str(getattr(info, "source", "") or ""),
        "target_description": str(getattr(info, "target_description", "") or ""),
        "task": str(getattr(info, "task", "") or ""),
    }
    return info.name, refs, facts
