"""Section builders, one module per result kind (see :mod:`discovery.reports.registry`).

* :mod:`.molprop` — ``molprop.train`` result folders.
* :mod:`.generic` — any kind without a dedicated builder.
"""
