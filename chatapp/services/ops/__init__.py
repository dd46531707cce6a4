"""Operating an installation: backups, workspace exports, health, retention."""
