"""JSON Schemas (draft 2020-12) of the config, the step trace and the train records."""
