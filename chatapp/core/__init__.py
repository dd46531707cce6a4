"""Infrastructure every area uses: settings, database, errors, security, logs, metrics."""
