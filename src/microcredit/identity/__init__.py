"""Identity: users, roles, permissions, sessions, passwords, SMS codes, OAuth, lockout."""
