"""Notifications: the outbox and the channels (SMS first; in-app and e-mail later)."""
