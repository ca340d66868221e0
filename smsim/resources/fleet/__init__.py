"""Fixed fleets (``fleets:``)."""
