"""Contacts of a workspace: edit, search, export, leads from the widget, personal data."""
