"""Consent: versioned user agreement, privacy policy and sensitive-information notice, and who accepted which."""
