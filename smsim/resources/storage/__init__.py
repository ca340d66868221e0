"""S3 storage with lifecycle rules, and data transfer (``storage:``)."""
