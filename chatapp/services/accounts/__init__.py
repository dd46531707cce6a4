"""Accounts and access: logins, API tokens, workspaces, roles, audit, visitors' access."""
