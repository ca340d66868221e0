"""LLM serving: hardware and model facts, the roofline step-time model and the serving simulation."""
