"""Servicing: loans as terms plus events, their money movements, and the postings that record them."""
