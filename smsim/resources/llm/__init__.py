"""LLM serving endpoints: token-level continuous batching (vLLM-style) on SageMaker."""
