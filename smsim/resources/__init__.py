"""Resource kinds, one folder each: its spec (pydantic), its simulation model, its fluid form
where it has one. Shared spec parts live in :mod:`smsim.resources.common`; scaling policies in
:mod:`smsim.resources.scaling`."""
