"""Documents: a borrower's files (ID card images, income and asset proofs, licences), kept in object storage."""
