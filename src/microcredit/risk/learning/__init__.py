"""Credit models learnt from data: training, validation and serving (docs/risk.md).

`artefact` is the contract between training, the model registry and the decision: a fitted model
is JSON bytes with a SHA-256, served from its tables without unpickling anything.
"""
