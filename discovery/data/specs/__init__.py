"""Hand-written dataset specs, one module per data category (read by ``_make_catalog``)."""
