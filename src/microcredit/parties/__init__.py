"""Parties: institutions, branches, staff, borrowers and their profiles."""
