"""Operations: backups and restores, the health endpoint and Prometheus metrics."""
