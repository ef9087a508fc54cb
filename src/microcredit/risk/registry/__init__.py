"""The model registry: credit models' versions, their promotion by maker–checker, and serving them in the decision."""
